"""The ledger client: contract calls and writes over a chain backend, the ABI codec, deployments."""

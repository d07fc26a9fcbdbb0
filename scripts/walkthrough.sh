#!/usr/bin/env bash
# The main job on the embedded chain: deploy a network, admit a TNSP by a 2-of-3 vote, give it numbers,
# onboard an enterprise, sync the node's index and show it. Uses a fresh EIDLN_HOME each run.
set -euo pipefail
export EIDLN_HOME="${EIDLN_HOME:-$(mktemp -d)/eidln}"
export EIDLN_PASSPHRASE="${EIDLN_PASSPHRASE:-walkthrough-only-passphrase}"
step() { printf '\n== %s\n' "$*"; }

step "deploy the contracts, create 3 governors (2 votes pass a proposal)"
eidln network init --governors 3 --threshold 2
eidln account new tel-one >/dev/null
eidln account new acme >/dev/null

step "governor1 proposes to admit Tel One as TNSP + OSP; governor2's vote executes it"
eidln member propose admit --as governor1 --account tel-one --roles TNSP,OSP --spc 1234 --name "Tel One"
eidln member vote 1 --as governor2

step "the numbering administrator (governance) assigns +1 202 555 0000..9999 to Tel One"
eidln member propose assign-blocks --as governor1 --start +12025550000 --count 10000 --holder tel-one
eidln member vote 2 --as governor3

step "Tel One endorses its enterprise customer Acme"
eidln member onboard --as tel-one --account acme --kind enterprise

step "a rule the ledger enforces: a TNSP cannot admit members (exit status 1, nothing written)"
eidln member propose admit --as tel-one --account acme --roles TNSP --spc 9999 || true

step "the node follows the chain into its durable index"
eidln node run --once
eidln member list
eidln member proposals
eidln node status --max-lag 0
printf '\nindex and chain are in %s\n' "$EIDLN_HOME"

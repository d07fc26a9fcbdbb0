#!/usr/bin/env bash
# The main job on the embedded chain: deploy a network, admit a TNSP and a vetting agency by 2-of-3 votes,
# give the TNSP numbers; every party gets a wallet and a DID; the agency vets the enterprise (after DID Auth:
# the enterprise signs the agency's challenge with its DID key), the TNSP grants it numbers, the enterprise
# delegates some to its call center; the node shows who may originate from a number, before and after the
# delegation is revoked. Uses a fresh EIDLN_HOME each run.
set -euo pipefail
export EIDLN_HOME="${EIDLN_HOME:-$(mktemp -d)/eidln}"
export EIDLN_PASSPHRASE="${EIDLN_PASSPHRASE:-walkthrough-only-passphrase}"
step() { printf '\n== %s\n' "$*"; }

step "deploy the contracts, create 3 governors (2 votes pass a proposal)"
eidln network init --governors 3 --threshold 2
wallet() { EIDLN_WALLET="$EIDLN_HOME/$1.wallet" "${@:2}"; }
address() { wallet "$1" eidln wallet init | sed -n 's/^ledger account: //p'; }
TEL=$(address tel-one); VET=$(address vet-co); ACME=$(address acme); CC=$(address callcenter)

step "governor1 proposes to admit Tel One as TNSP + OSP; governor2's vote executes it"
eidln member propose admit --as governor1 --account "$TEL" --roles TNSP,OSP --spc 1234 --name "Tel One"
eidln member vote 1 --as governor2
eidln member propose admit --as governor1 --account "$VET" --roles VETTER --name "Vet Co"
eidln member vote 2 --as governor2

step "the numbering administrator (governance) assigns +1 202 555 0000..9999 to Tel One"
eidln member propose assign-blocks --as governor1 --start +12025550000 --count 10000 --holder "$TEL"
eidln member vote 3 --as governor3

step "Tel One endorses its enterprise customer Acme and Acme's call center"
wallet tel-one eidln member onboard --as @wallet --account "$ACME" --kind enterprise
wallet tel-one eidln member onboard --as @wallet --account "$CC" --kind call-center

step "everyone creates a DID (self-certifying, Ed25519 key, on the ledger)"
for p in tel-one vet-co acme callcenter; do wallet $p eidln did create; done
did() { wallet "$1" eidln did show | sed -n 's/^\(did:eidln:[^ ]*\).*/\1/p' | head -1; }
ACME_DID=$(did acme); CC_DID=$(did callcenter)

step "Vet Co vets Acme: first DID Auth (Vet Co's challenge, Acme signs it with its DID key), no proof, no credential"
CHALLENGE=$(wallet vet-co eidln vet challenge --subject "$ACME_DID")
PROOF=$(wallet acme eidln did prove "$ACME_DID" --challenge "$CHALLENGE")
VETTING=(--subject "$ACME_DID" --challenge "$CHALLENGE" --proof "$PROOF" --legal-name "Acme Corp" --jurisdiction US-DE
         --lei 5493001KJTIIGC8Y1R12)
wallet vet-co eidln vet "${VETTING[@]}"

step "Tel One grants Acme +1 202 555 0100..0199; Acme delegates 0140..0149 to its call center"
GRANT=$(wallet tel-one eidln tn grant --subject "$ACME_DID" --start +12025550100 --count 100)
DELEGATION=$(wallet acme eidln tn delegate --parent "$GRANT" --subject "$CC_DID" --start +12025550140 --count 10)

step "rules the ledger and the vetting agency enforce (exit status 1, nothing written)"
wallet vet-co eidln vet "${VETTING[@]}" || true                                      # a challenge serves once
wallet tel-one eidln tn grant --subject "$ACME_DID" --start +12025560000 || true     # numbers Tel One does not hold
wallet acme eidln tn delegate --parent "$GRANT" --subject "$CC_DID" --start +12025550190 --count 20 || true
wallet tel-one eidln member propose admit --as @wallet --account "$ACME" --roles TNSP --spc 9999 || true  # not a governor

step "who may originate from +1 202 555 0143 now? (from the node's verified index)"
eidln tn chain +12025550143

step "Acme revokes the delegation: the call center's chain is gone at once"
wallet acme eidln tn revoke "$DELEGATION"
eidln tn chain +12025550143

step "the node follows the chain into its durable index"
eidln node run --once
eidln member list
eidln tn list
eidln node status --max-lag 0
printf '\nindex and chain are in %s\n' "$EIDLN_HOME"

#!/usr/bin/env bash
# Interoperability checks between Carnet and two independent SD-JWT VC implementations:
#   - PyPI sd-jwt 0.10.x (OWF reference implementation), driven by py_peer.py
#   - npm @sd-jwt/sd-jwt-vc + @sd-jwt/crypto-nodejs 0.19.0, driven by js_peer.mjs
#
# Usage: tests/interop/run.sh /path/to/carnet
#
# Installs the peers itself (a venv in tests/interop/.venv, node_modules in tests/interop),
# prints `ok NAME` or `FAIL NAME: reason` per check, then `N passed, N failed`; exits 1 if any
# check failed. KEEP=1 keeps the work directory (keys, tokens, outputs) even when all pass.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 /path/to/carnet" >&2
  exit 2
fi
if [ ! -x "$1" ]; then
  echo "$0: $1 is not an executable" >&2
  exit 2
fi
CARNET=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NODE=${NODE:-node}
PY="$HERE/.venv/bin/python"

# ------------------------------------------------------------------------------- installs

install_python_peer() {
  if [ ! -x "$PY" ]; then
    python3 -m venv "$HERE/.venv"
  fi
  if ! "$PY" -c 'import importlib.metadata as m, sys; sys.exit(0 if m.version("sd-jwt").startswith("0.10.") else 1)' 2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check 'sd-jwt>=0.10,<0.11'
  fi
}

install_js_peer() {
  local stamp="$HERE/node_modules/.package-lock.json"
  if [ -f "$HERE/package-lock.json" ]; then
    if [ ! -f "$stamp" ] || [ "$HERE/package-lock.json" -nt "$stamp" ] || [ "$HERE/package.json" -nt "$stamp" ]; then
      (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  else
    (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

install_python_peer
install_js_peer
echo "# carnet: $CARNET"
echo "# peers: sd-jwt $("$PY" -c 'import importlib.metadata as m; print(m.version("sd-jwt"))')" \
  "(jwcrypto $("$PY" -c 'import importlib.metadata as m; print(m.version("jwcrypto"))')," \
  "python $("$PY" -c 'import platform; print(platform.python_version())'))," \
  "@sd-jwt/sd-jwt-vc $("$NODE" -p 'require("'"$HERE"'/node_modules/@sd-jwt/sd-jwt-vc/package.json").version')" \
  "(node $("$NODE" --version))"

# ------------------------------------------------------------------------------- fixtures

WORK=$(mktemp -d "${TMPDIR:-/tmp}/carnet-interop.XXXXXX")
PASS=0
FAIL=0
cleanup() {
  if [ "$FAIL" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "# work directory kept: $WORK" >&2
  fi
}
trap cleanup EXIT

CLAIMS="$HERE/claims.json"
VCT="https://carnet.example/vct/training-record"
AUD="https://verifier.example"
NONCE="n-$(date +%s)-$RANDOM"
declare -A ISS=([carnet]="https://carnet.example/issuer" [py]="https://py-peer.example/issuer" [js]="https://js-peer.example/issuer")

# What a peer issuer makes selectively disclosable: top-level claims, a whole object and some of
# its members (course/title stays always visible), and every array element.
PEER_SD=(--sd /given_name --sd /family_name --sd /email --sd /score
         --sd /course --sd /course/level --sd /course/provider
         --sd /skills/0 --sd /skills/1 --sd /skills/2)
# What every holder discloses in the "subset" presentations: a top-level claim, a nested object
# member, an array element.
DISCLOSE=(/given_name /course/level /skills/1)

# Keys: issuers and holders, EdDSA and ES256, all made by Carnet (so the peers read Carnet JWKs).
for who in issuer holder; do
  for alg in EdDSA ES256; do
    "$CARNET" key generate --alg "$alg" >"$WORK/$who-$alg.jwk"
    "$CARNET" key public <"$WORK/$who-$alg.jwk" >"$WORK/$who-$alg.pub"
  done
done

# ------------------------------------------------------------------------------- check machinery

# check NAME FUNCTION ARGS... — runs FUNCTION in a subshell with errexit; a failing step writes
# its reason to $CK/reason. Artifacts go to $CK (kept with the work directory on failure).
check() {
  local name=$1
  shift
  CK="$WORK/$(printf '%03d' $((PASS + FAIL + 1)))-${name//\//_}"
  mkdir -p "$CK"
  local rc=0
  set +e
  ("$@") >"$CK/log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    echo "ok $name"
    PASS=$((PASS + 1))
  else
    local reason
    if [ -s "$CK/reason" ]; then reason=$(cat "$CK/reason"); else reason="step failed: $(tail -n 3 "$CK/log" | tr '\n' ' ')"; fi
    echo "FAIL $name: $reason"
    FAIL=$((FAIL + 1))
  fi
}

fail_with() {
  echo "$*" >"$CK/reason"
  exit 1
}

brief() { head -c 400 "$1" | tr '\n' ' '; }

# step DESC OUT CMD... — run CMD (stdin as redirected by the caller) into OUT; fail the check if it
# exits non-zero.
step() {
  local desc=$1 out=$2
  shift 2
  local rc=0
  "$@" >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -ne 0 ]; then fail_with "$desc exited $rc: $(brief "$out.err")"; fi
}

# reject DESC OUT CMD... — CMD must fail; Carnet must fail with exit status 1 exactly and print
# nothing on stdout.
reject() {
  local desc=$1 out=$2
  shift 2
  local rc=0
  "$@" >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -eq 0 ]; then fail_with "$desc accepted it: $(brief "$out")"; fi
  if [ "$1" = "$CARNET" ]; then
    [ "$rc" -eq 1 ] || fail_with "$desc exited $rc, expected 1: $(brief "$out.err")"
    [ ! -s "$out" ] || fail_with "$desc printed claims while rejecting: $(brief "$out")"
  fi
  echo "$desc rejected (exit $rc): $(brief "$out.err")"
}

# expect FILE ASSERTION... — see check.py
expect() {
  local file=$1 msg
  shift
  msg=$("$PY" "$HERE/check.py" expect "$file" "$@") || fail_with "content of $(basename "$file"): $msg"
}

peer() {
  local which=$1
  shift
  case $which in
    py) "$PY" "$HERE/py_peer.py" "$@" ;;
    js) "$NODE" "$HERE/js_peer.mjs" "$@" ;;
    *) echo "no peer $which" >&2; return 2 ;;
  esac
}

# issue ISSUER(carnet|py|js) ALG HOLDER_ALG OUT [extra issuer args]
issue() {
  local who=$1 alg=$2 halg=$3 out=$4
  shift 4
  if [ "$who" = carnet ]; then
    # Carnet's default: every claim selectively disclosable, recursively, with decoys.
    step "carnet issue" "$out" "$CARNET" credential issue --issuer-key "$WORK/issuer-$alg.jwk" \
      --holder-jwk "$WORK/holder-$halg.pub" --iss "${ISS[carnet]}" --vct "$VCT" --claims "$CLAIMS" \
      --exp 3600 "$@"
  else
    step "$who issue" "$out" peer "$who" issue --issuer-key "$WORK/issuer-$alg.jwk" \
      --holder-jwk "$WORK/holder-$halg.pub" --iss "${ISS[$who]}" --vct "$VCT" --claims "$CLAIMS" \
      "${PEER_SD[@]}" --exp 3600 "$@"
  fi
}

# present HOLDER(carnet|py|js) HOLDER_ALG IN OUT subset|all [aud nonce]
present() {
  local who=$1 halg=$2 in=$3 out=$4 mode=$5 aud=${6:-$AUD} nonce=${7:-$NONCE}
  local sel=() ptr
  if [ "$mode" = subset ]; then for ptr in "${DISCLOSE[@]}"; do sel+=(--disclose "$ptr"); done; fi
  if [ "$who" = carnet ]; then
    step "carnet present" "$out" "$CARNET" credential present --holder-key "$WORK/holder-$halg.jwk" \
      --aud "$aud" --nonce "$nonce" "${sel[@]}" <"$in"
  else
    step "$who present" "$out" peer "$who" present --holder-key "$WORK/holder-$halg.jwk" \
      --aud "$aud" --nonce "$nonce" "${sel[@]}" <"$in"
  fi
}

# verify VERIFIER(carnet|py|js) ISSUER_ALG IN OUT
verify() {
  local who=$1 alg=$2 in=$3 out=$4
  if [ "$who" = carnet ]; then
    step "carnet verify" "$out" "$CARNET" credential verify --issuer-jwk "$WORK/issuer-$alg.pub" \
      --aud "$AUD" --nonce "$NONCE" <"$in"
  else
    step "$who verify" "$out" peer "$who" verify --issuer-jwk "$WORK/issuer-$alg.pub" \
      --aud "$AUD" --nonce "$NONCE" <"$in"
  fi
}

# Content assertions on the verified claims.
expect_subset() { # expect_subset FILE ISSUER
  local title='!/course/title' # Carnet makes every claim disclosable: title was not disclosed
  [ "$2" = carnet ] || title='/course/title="Secure Rust"' # the peers keep it always visible
  expect "$1" "/iss=\"${ISS[$2]}\"" "/vct=\"$VCT\"" '?/iat' '?/cnf/jwk' \
    '/given_name="Zoë"' '/course/level="advanced"' '/skills=["sd-jwt"]' "$title" \
    '!/family_name' '!/email' '!/score' '!/course/provider' '!/_sd' '!/_sd_alg'
}
expect_all() { # expect_all FILE ISSUER
  expect "$1" "/iss=\"${ISS[$2]}\"" "/vct=\"$VCT\"" '?/iat' '?/cnf/jwk' \
    '/given_name="Zoë"' '/family_name="Okafor"' '/email="zoe@example.org"' '/score=92' \
    '/course={"title":"Secure Rust","provider":"Carnet Academy","level":"advanced"}' \
    '/skills=["rust","sd-jwt","jose"]' '!/_sd' '!/_sd_alg'
}
expect_holder() { # expect_holder FILE HOLDER_ALG — cnf.jwk is the holder's public key
  expect "$1" "/cnf/jwk/x=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["x"]))' "$WORK/holder-$2.pub")"
}

# ------------------------------------------------------------------------------- flows

# Carnet issues -> peer presents -> Carnet verifies.
flow_c_peer_c() { # PEER ISSUER_ALG HOLDER_ALG MODE
  local p=$1 alg=$2 halg=$3 mode=$4
  issue carnet "$alg" "$halg" "$CK/credential"
  present "$p" "$halg" "$CK/credential" "$CK/presentation" "$mode"
  verify carnet "$alg" "$CK/presentation" "$CK/claims.json"
  if [ "$mode" = all ]; then expect_all "$CK/claims.json" carnet; else expect_subset "$CK/claims.json" carnet; fi
  expect_holder "$CK/claims.json" "$halg"
}

# Carnet issues -> Carnet presents -> peer verifies.
flow_c_c_peer() { # PEER ISSUER_ALG HOLDER_ALG
  local p=$1 alg=$2 halg=$3
  issue carnet "$alg" "$halg" "$CK/credential"
  present carnet "$halg" "$CK/credential" "$CK/presentation" subset
  verify "$p" "$alg" "$CK/presentation" "$CK/claims.json"
  expect_subset "$CK/claims.json" carnet
  expect_holder "$CK/claims.json" "$halg"
}

# Peer issues -> Carnet presents a subset -> Carnet verifies; the presentation is kept in
# $WORK/shared for the peer to verify the very same token in the next check.
flow_peer_c_c() { # PEER ISSUER_ALG HOLDER_ALG
  local p=$1 alg=$2 halg=$3
  local shared="$WORK/shared/$p-$alg-$halg"
  mkdir -p "$WORK/shared"
  rm -f "$shared"
  issue "$p" "$alg" "$halg" "$CK/credential"
  present carnet "$halg" "$CK/credential" "$CK/presentation" subset
  cp "$CK/presentation" "$shared"
  verify carnet "$alg" "$CK/presentation" "$CK/claims.json"
  expect_subset "$CK/claims.json" "$p"
  expect_holder "$CK/claims.json" "$halg"
}

flow_peer_c_peer() { # PEER ISSUER_ALG HOLDER_ALG — the token made by flow_peer_c_c
  local p=$1 alg=$2 halg=$3
  local shared="$WORK/shared/$p-$alg-$halg"
  [ -s "$shared" ] || fail_with "no presentation: the Carnet-verify check of this credential failed before presenting"
  verify "$p" "$alg" "$shared" "$CK/claims.json"
  expect_subset "$CK/claims.json" "$p"
  expect_holder "$CK/claims.json" "$halg"
}

# Peer issues -> same peer presents -> Carnet verifies.
flow_peer_peer_c() { # PEER ISSUER_ALG HOLDER_ALG
  local p=$1 alg=$2 halg=$3
  issue "$p" "$alg" "$halg" "$CK/credential"
  present "$p" "$halg" "$CK/credential" "$CK/presentation" subset
  verify carnet "$alg" "$CK/presentation" "$CK/claims.json"
  expect_subset "$CK/claims.json" "$p"
  expect_holder "$CK/claims.json" "$halg"
}

# --- negative flows

# A peer presentation whose given_name disclosure was rewritten after the fact (KB-JWT untouched).
neg_py_tampered() {
  issue py EdDSA ES256 "$CK/credential"
  present py ES256 "$CK/credential" "$CK/presentation" subset
  step "tamper" "$CK/tampered" "$PY" "$HERE/check.py" tamper given_name '"Mallory"' <"$CK/presentation"
  reject "carnet verify" "$CK/claims.json" "$CARNET" credential verify --issuer-jwk "$WORK/issuer-EdDSA.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/tampered"
}

# The same, but the holder re-signs the KB-JWT over the tampered presentation, so sd_hash is
# right and only the disclosure digest check can catch it. Control: re-binding an untouched
# presentation must still verify.
neg_js_tampered_rebound() {
  issue js ES256 EdDSA "$CK/credential"
  present js EdDSA "$CK/credential" "$CK/presentation" subset
  step "js rebind (control)" "$CK/rebound" peer js rebind --holder-key "$WORK/holder-EdDSA.jwk" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/presentation"
  verify carnet ES256 "$CK/rebound" "$CK/control.json"
  expect_subset "$CK/control.json" js
  step "tamper" "$CK/tampered" "$PY" "$HERE/check.py" tamper given_name '"Mallory"' <"$CK/presentation"
  step "js rebind" "$CK/tampered-rebound" peer js rebind --holder-key "$WORK/holder-EdDSA.jwk" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/tampered"
  reject "carnet verify" "$CK/claims.json" "$CARNET" credential verify --issuer-jwk "$WORK/issuer-ES256.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/tampered-rebound"
}

# Carnet presents with another nonce (or audience) than the peer verifier expects.
neg_c_wrong_kb_peer() { # PEER HOLDER_ALG nonce|aud
  local p=$1 halg=$2 what=$3
  issue carnet EdDSA "$halg" "$CK/credential"
  if [ "$what" = nonce ]; then
    present carnet "$halg" "$CK/credential" "$CK/presentation" subset "$AUD" "wrong-$NONCE"
  else
    present carnet "$halg" "$CK/credential" "$CK/presentation" subset "https://other-verifier.example" "$NONCE"
  fi
  reject "$p verify" "$CK/claims.json" peer "$p" verify --issuer-jwk "$WORK/issuer-EdDSA.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/presentation"
}

# A Carnet presentation whose given_name disclosure was rewritten (KB-JWT untouched, so its
# sd_hash no longer matches) is rejected by the peer verifier.
neg_c_tampered_peer() { # PEER HOLDER_ALG
  local p=$1 halg=$2
  issue carnet ES256 "$halg" "$CK/credential"
  present carnet "$halg" "$CK/credential" "$CK/presentation" subset
  step "tamper" "$CK/tampered" "$PY" "$HERE/check.py" tamper given_name '"Mallory"' <"$CK/presentation"
  reject "$p verify" "$CK/claims.json" peer "$p" verify --issuer-jwk "$WORK/issuer-ES256.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/tampered"
}

# A peer presentation made for another nonce is rejected by Carnet.
neg_peer_wrong_nonce_c() { # PEER HOLDER_ALG
  local p=$1 halg=$2
  issue "$p" ES256 "$halg" "$CK/credential"
  present "$p" "$halg" "$CK/credential" "$CK/presentation" subset "$AUD" "wrong-$NONCE"
  reject "carnet verify" "$CK/claims.json" "$CARNET" credential verify --issuer-jwk "$WORK/issuer-ES256.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/presentation"
}

# A peer credential typed vc+sd-jwt (the pre-2025 media type) is refused unless the verifier
# opts in with --accept-typ.
neg_peer_old_typ() { # PEER
  local p=$1
  issue "$p" EdDSA EdDSA "$CK/credential" --typ vc+sd-jwt
  present "$p" EdDSA "$CK/credential" "$CK/presentation" subset
  reject "carnet verify" "$CK/claims.json" "$CARNET" credential verify --issuer-jwk "$WORK/issuer-EdDSA.pub" \
    --aud "$AUD" --nonce "$NONCE" <"$CK/presentation"
  step "carnet verify --accept-typ vc+sd-jwt" "$CK/claims-accepted.json" "$CARNET" credential verify \
    --issuer-jwk "$WORK/issuer-EdDSA.pub" --aud "$AUD" --nonce "$NONCE" --accept-typ vc+sd-jwt <"$CK/presentation"
  expect_subset "$CK/claims-accepted.json" "$p"
}

# --- the Carnet wallet receives over OpenID4VCI from an issuer built on the Python peer

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# flow_wallet_receives_py ALG: `carnet serve wallet` and py_issuer.py (its credentials made by
# the reference implementation) on loopback; a holder signs up, receives two copies through
# the offer link, and the wallet's carnet shows what the peer issued.
flow_wallet_receives_py() {
  local alg=$1 wport iport pids=()
  wport=$(free_port)
  iport=$(free_port)
  trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
  # The peer issuer is on another loopback port: the operator's list lets the wallet reach it.
  CARNET_DATA_DIR="$CK/wallet" CARNET_LOG=warn "$CARNET" serve wallet --addr "127.0.0.1:$wport" \
    --allow-outbound "127.0.0.1:$iport" >"$CK/wallet.log" 2>&1 &
  pids+=($!)
  (cd "$HERE" && exec "$PY" py_issuer.py --port "$iport" --issuer-key "$WORK/issuer-$alg.jwk" \
    --claims "$CLAIMS" --vct "$VCT" --code "code-$RANDOM-$RANDOM") >"$CK/offer" 2>"$CK/issuer.log" &
  pids+=($!)
  local base="http://127.0.0.1:$wport/wallet/api/v1" tries=0
  until [ -s "$CK/offer" ] && curl -s -o /dev/null "$base/me"; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || fail_with "the wallet or the issuer did not start: $(brief "$CK/wallet.log") $(brief "$CK/issuer.log")"
    sleep 0.2
  done
  step "sign up" "$CK/signup.json" curl -sf -c "$CK/cookies" -H 'content-type: application/json' \
    -d '{"email":"zoe@example.org","password":"interop password 2026","display_name":"Zoë"}' "$base/accounts"
  local csrf
  csrf=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$CK/signup.json")
  "$PY" -c 'import json, sys; print(json.dumps({"offer": open(sys.argv[1]).read().strip(), "copies": 2}))' \
    "$CK/offer" >"$CK/receive-request.json"
  step "receive" "$CK/received.json" curl -s -b "$CK/cookies" -H "x-csrf-token: $csrf" \
    -H 'content-type: application/json' --data-binary "@$CK/receive-request.json" "$base/credentials/receive"
  "$PY" - "$CK/received.json" "http://127.0.0.1:$iport" "$VCT" 2>"$CK/reason" <<'PYEOF' || exit 1
import json, sys
got = json.load(open(sys.argv[1]))
if not isinstance(got, list) or len(got) != 2:
    sys.exit(f"expected two credentials, got {json.dumps(got)[:300]}")
for c in got:
    assert c["issuer"] == sys.argv[2], c["issuer"]
    assert c["vct"] == sys.argv[3], c["vct"]
    assert c["issuer_name"] == "Python reference issuer", c["issuer_name"]
    claims = c["claims"]
    assert claims["given_name"] == "Zoë", claims
    assert claims["course"]["level"] == "advanced", claims
    assert claims["skills"] == ["rust", "sd-jwt", "jose"], claims
    assert "_sd" not in json.dumps(claims), "digests leaked"
assert got[0]["sd_jwt"] != got[1]["sd_jwt"], "two copies, each its own"
PYEOF
  : >"$CK/reason"
  step "credentials" "$CK/list.json" curl -sf -b "$CK/cookies" "$base/credentials"
  "$PY" -c 'import json, sys; l = json.load(open(sys.argv[1])); sys.exit(0 if len(l) == 2 else "stored: %d" % len(l))' "$CK/list.json" \
    || fail_with "the wallet does not list both credentials"
}

# ------------------------------------------------------------------------------- the matrix

START=$(date +%s)

# 1. Carnet issues -> peer presents -> Carnet verifies
for alg in EdDSA ES256; do
  for p in py js; do
    check "carnet-issue-$alg/$p-present-kb$alg/carnet-verify" flow_c_peer_c "$p" "$alg" "$alg" subset
  done
done
for p in py js; do
  check "carnet-issue-EdDSA/$p-present-all-kbES256/carnet-verify" flow_c_peer_c "$p" EdDSA ES256 all
done

# 1. Carnet issues -> Carnet presents -> peer verifies (the Python verifier only takes ES256 KB)
for alg in EdDSA ES256; do
  check "carnet-issue-$alg/carnet-present-kbES256/py-verify" flow_c_c_peer py "$alg" ES256
  for halg in EdDSA ES256; do
    check "carnet-issue-$alg/carnet-present-kb$halg/js-verify" flow_c_c_peer js "$alg" "$halg"
  done
done

# 2. Peer issues -> Carnet presents a subset -> Carnet verifies, and the peer verifies the same
#    presentation; peer issues -> peer presents -> Carnet verifies.
for p in py js; do
  for alg in EdDSA ES256; do
    halg=ES256
    if [ "$p" = js ] && [ "$alg" = EdDSA ]; then halg=EdDSA; fi
    check "$p-issue-$alg/carnet-present-kb$halg/carnet-verify" flow_peer_c_c "$p" "$alg" "$halg"
    check "$p-issue-$alg/carnet-present-kb$halg/$p-verify" flow_peer_c_peer "$p" "$alg" "$halg"
  done
  for alg in EdDSA ES256; do
    for halg in EdDSA ES256; do
      check "$p-issue-$alg/$p-present-kb$halg/carnet-verify" flow_peer_peer_c "$p" "$alg" "$halg"
    done
  done
done

# The Carnet wallet receives from an issuer built on the Python peer, over OpenID4VCI.
for alg in EdDSA ES256; do
  check "py-issuer-$alg/openid4vci/carnet-wallet-receives" flow_wallet_receives_py "$alg"
done

# 3. Negative interop checks
check "neg/py-present-tampered-disclosure/carnet-rejects" neg_py_tampered
check "neg/js-present-tampered-disclosure-kb-resigned/carnet-rejects" neg_js_tampered_rebound
check "neg/carnet-present-wrong-nonce/py-verify-rejects" neg_c_wrong_kb_peer py ES256 nonce
check "neg/carnet-present-wrong-nonce/js-verify-rejects" neg_c_wrong_kb_peer js EdDSA nonce
check "neg/carnet-present-wrong-aud/py-verify-rejects" neg_c_wrong_kb_peer py ES256 aud
check "neg/carnet-present-tampered-disclosure/py-verify-rejects" neg_c_tampered_peer py ES256
check "neg/carnet-present-tampered-disclosure/js-verify-rejects" neg_c_tampered_peer js EdDSA
for p in py js; do
  check "neg/$p-present-wrong-nonce/carnet-verify-rejects" neg_peer_wrong_nonce_c "$p" EdDSA
  check "neg/$p-issue-typ-vc+sd-jwt/carnet-rejects-unless-accept-typ" neg_peer_old_typ "$p"
done

echo "# checks took $(($(date +%s) - START))s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

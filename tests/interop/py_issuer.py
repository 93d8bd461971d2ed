#!/usr/bin/env python3
"""A minimal OpenID4VCI 1.0 credential issuer whose SD-JWT VCs are made by the OWF reference
implementation (PyPI `sd-jwt` 0.10), for the Carnet wallet to receive from.

    py_issuer.py --port P --issuer-key F --claims F --vct URL --code CODE

Serves on 127.0.0.1:P as the issuer `http://127.0.0.1:P`:
  /.well-known/openid-credential-issuer, /.well-known/oauth-authorization-server,
  /.well-known/jwt-vc-issuer (the issuer's public key), POST /token (pre-authorized code CODE,
  no transaction code), POST /nonce, POST /credential (one credential per `jwt` proof, bound to
  the proof's `jwk` once its signature, audience and nonce check out).
Prints the credential offer link on stdout once listening, then serves until killed.
"""

import argparse
import json
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from py_peer import PEER_SD_PATHS, alg_of, load_jwk, mark_sd
from sd_jwt.issuer import SDJWTIssuer

CONFIGURATION = "py_training_record"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--issuer-key", required=True)
    p.add_argument("--claims", required=True)
    p.add_argument("--vct", required=True)
    p.add_argument("--code", required=True)
    a = p.parse_args()
    issuer_jwk = load_jwk(a.issuer_key)
    with open(a.claims, encoding="utf-8") as f:
        claims = json.load(f)
    public = {k: v for k, v in issuer_jwk.items() if k not in ("d",)}
    iss = f"http://127.0.0.1:{a.port}"
    state = {"tokens": set(), "nonces": set(), "code_used": False}

    metadata = {
        "credential_issuer": iss,
        "credential_endpoint": f"{iss}/credential",
        "nonce_endpoint": f"{iss}/nonce",
        "batch_credential_issuance": {"batch_size": 5},
        "display": [{"name": "Python reference issuer", "locale": "en"}],
        "credential_configurations_supported": {
            CONFIGURATION: {
                "format": "dc+sd-jwt",
                "vct": a.vct,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [alg_of(issuer_jwk)],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}},
            }
        },
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            sys.stderr.write("py_issuer: " + (args[0] % args[1:]) + "\n")

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("content-length") or 0)
            return self.rfile.read(n)

        def do_GET(self):
            if self.path == "/.well-known/openid-credential-issuer":
                self.reply(200, metadata)
            elif self.path == "/.well-known/oauth-authorization-server":
                self.reply(200, {"issuer": iss, "token_endpoint": f"{iss}/token",
                                 "pre-authorized_grant_anonymous_access_supported": True})
            elif self.path == "/.well-known/jwt-vc-issuer":
                self.reply(200, {"issuer": iss, "jwks": {"keys": [public]}})
            else:
                self.reply(404, {"error": "not_found"})

        def do_POST(self):
            if self.path == "/token":
                form = urllib.parse.parse_qs(self.body().decode())
                grant = form.get("grant_type", [""])[0]
                code = form.get("pre-authorized_code", [""])[0]
                if grant != "urn:ietf:params:oauth:grant-type:pre-authorized_code":
                    return self.reply(400, {"error": "unsupported_grant_type"})
                if code != a.code or state["code_used"]:
                    return self.reply(400, {"error": "invalid_grant"})
                state["code_used"] = True
                token = secrets.token_urlsafe(24)
                state["tokens"].add(token)
                return self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})
            if self.path == "/nonce":
                nonce = secrets.token_urlsafe(16)
                state["nonces"].add(nonce)
                return self.reply(200, {"c_nonce": nonce})
            if self.path == "/credential":
                auth = self.headers.get("authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in state["tokens"]:
                    return self.reply(401, {"error": "invalid_token"})
                request = json.loads(self.body())
                if request.get("credential_configuration_id") != CONFIGURATION:
                    return self.reply(400, {"error": "unknown_credential_configuration"})
                credentials = []
                for proof in request.get("proofs", {}).get("jwt", []):
                    jws = JWS()
                    jws.deserialize(proof)
                    header = jws.jose_header
                    if header.get("typ") != "openid4vci-proof+jwt" or "jwk" not in header:
                        return self.reply(400, {"error": "invalid_proof"})
                    holder = JWK(**header["jwk"])
                    try:
                        jws.verify(holder, alg=header.get("alg"))
                    except Exception:
                        return self.reply(400, {"error": "invalid_proof"})
                    body = json.loads(jws.payload)
                    if body.get("aud") != iss or body.get("nonce") not in state["nonces"]:
                        return self.reply(400, {"error": "invalid_nonce"})
                    now = int(time.time())
                    user_claims = {"iss": iss, "vct": a.vct, "iat": now, "exp": now + 3600}
                    user_claims.update(mark_sd(claims, (), PEER_SD_PATHS))
                    issuer = SDJWTIssuer(
                        user_claims,
                        JWK(**issuer_jwk),
                        holder_key=holder,
                        sign_alg=alg_of(issuer_jwk),
                        add_decoy_claims=True,
                        extra_header_parameters={"typ": "dc+sd-jwt", "kid": issuer_jwk.get("kid")},
                    )
                    credentials.append({"credential": issuer.sd_jwt_issuance})
                state["tokens"].discard(auth[7:])
                return self.reply(200, {"credentials": credentials})
            self.reply(404, {"error": "not_found"})

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    offer = {
        "credential_issuer": iss,
        "credential_configuration_ids": [CONFIGURATION],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": a.code}},
    }
    print("openid-credential-offer://?credential_offer=" + urllib.parse.quote(json.dumps(offer)), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

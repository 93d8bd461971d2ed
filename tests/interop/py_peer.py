#!/usr/bin/env python3
"""Interop peer built on the OWF reference implementation (PyPI `sd-jwt` 0.10, module `sd_jwt`).

    py_peer.py issue   --issuer-key F --holder-jwk F --iss URL --vct URL --claims F
                       [--sd PTR]... [--exp SECONDS] [--typ TYP]          -> SD-JWT on stdout
    py_peer.py present --holder-key F --aud AUD --nonce NONCE [--disclose PTR]... < sd-jwt
                                                                          -> SD-JWT+KB on stdout
    py_peer.py verify  --issuer-jwk F --aud AUD --nonce NONCE [--typ TYP] < presentation
                                                                          -> disclosed claims (JSON)

PTR is a JSON pointer into the *issued claims* (`/course/level`, `/skills/1`); an array index
counts the credential's real elements, not the digests and decoys of the packed array. Without
--disclose, `present` discloses everything. Errors go to stderr with exit status 1.
"""

import argparse
import base64
import hashlib
import json
import sys
import time

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

ALL = object()  # "disclose this claim and everything beneath it"

# What a peer issuer makes selectively disclosable (as run.sh's PEER_SD): top-level claims, a
# whole object and some of its members (course/title stays visible), every array element.
PEER_SD_PATHS = {
    ("given_name",), ("family_name",), ("email",), ("score",), ("course",), ("course", "level"),
    ("course", "provider"), ("skills", "0"), ("skills", "1"), ("skills", "2"),
}


def load_jwk(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def alg_of(jwk):
    """The JWS alg for a JWK: its own `alg`, else derived from kty/crv."""
    if jwk.get("alg"):
        return jwk["alg"]
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return "EdDSA"
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return "ES256"
    raise ValueError(f"cannot tell the alg of JWK kty={jwk.get('kty')} crv={jwk.get('crv')}")


def parse_pointer(ptr):
    if ptr == "":
        return []
    if not ptr.startswith("/"):
        raise ValueError(f"not a JSON pointer: {ptr!r}")
    return [s.replace("~1", "/").replace("~0", "~") for s in ptr[1:].split("/")]


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def digest(disclosure):
    return base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode("ascii")).digest()).decode().rstrip("=")


# --------------------------------------------------------------------------- issue

def mark_sd(value, here, sd_paths):
    """Rebuild the claims with SDObj wrappers (keys for object members, elements for arrays)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            path = here + (k,)
            key = SDObj(k) if path in sd_paths else k
            out[key] = mark_sd(v, path, sd_paths)
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            path = here + (str(i),)
            inner = mark_sd(v, path, sd_paths)
            out.append(SDObj(inner) if path in sd_paths else inner)
        return out
    return value


def cmd_issue(a):
    issuer_jwk = load_jwk(a.issuer_key)
    holder_jwk = load_jwk(a.holder_jwk)
    with open(a.claims, encoding="utf-8") as f:
        claims = json.load(f)
    sd_paths = {tuple(parse_pointer(p)) for p in a.sd}
    now = int(time.time())
    user_claims = {"iss": a.iss, "vct": a.vct, "iat": now, "exp": now + a.exp}
    user_claims.update(mark_sd(claims, (), sd_paths))
    issuer = SDJWTIssuer(
        user_claims,
        JWK(**issuer_jwk),
        holder_key=JWK(**holder_jwk),
        sign_alg=alg_of(issuer_jwk),
        add_decoy_claims=True,
        # The library's default typ is example+sd-jwt; SD-JWT VC wants dc+sd-jwt.
        extra_header_parameters={"typ": a.typ},
    )
    print(issuer.sd_jwt_issuance)


# --------------------------------------------------------------------------- present

def build_frame(node, wanted, dmap):
    """Translate pointers (as segment tuples, relative to `node`) into the library's
    `claims_to_disclose` structure, which mirrors the *packed* payload: dicts keyed by claim
    name, and lists positional over the packed array (digests and decoys included).

    `wanted` is ALL or a list of segment tuples."""
    if isinstance(node, dict):
        children = {k: v for k, v in node.items() if k not in ("_sd", "_sd_alg")}
        for d in node.get("_sd", []):
            if d in dmap:
                _, name, value = dmap[d]
                children[name] = value
        frame = {}
        if wanted is ALL:
            for name, value in children.items():
                sub = build_frame(value, ALL, dmap)
                frame[name] = sub if sub else True
            return frame
        for path in wanted:
            name = path[0]
            if name not in children:
                raise ValueError(f"no claim {name!r} to disclose")
            rest = [p[1:] for p in wanted if p[0] == name and len(p) > 1]
            if name in frame:
                continue
            sub = build_frame(children[name], rest, dmap) if rest else None
            # an empty dict would read as "do not disclose": use True for leaves
            frame[name] = sub if sub else True
        return frame
    if isinstance(node, list):
        real = []  # (packed index, value) of the credential's actual elements
        for pos, el in enumerate(node):
            if isinstance(el, dict) and len(el) == 1 and "..." in el:
                if el["..."] in dmap:
                    real.append((pos, dmap[el["..."]][1]))
                # else: a decoy
            else:
                real.append((pos, el))
        frame = [None] * len(node)
        if wanted is ALL:
            for pos, value in real:
                sub = build_frame(value, ALL, dmap)
                frame[pos] = sub if sub else True
            return frame
        for path in wanted:
            idx = int(path[0])
            if idx >= len(real):
                raise ValueError(f"no array element {idx} to disclose")
            pos, value = real[idx]
            rest = [p[1:] for p in wanted if p[0] == path[0] and len(p) > 1]
            sub = build_frame(value, rest, dmap) if rest else None
            frame[pos] = sub if sub else True
        return frame
    return None


def cmd_present(a):
    issuance = sys.stdin.read().strip()
    holder_jwk = load_jwk(a.holder_key)
    parts = issuance.split("~")
    payload = json.loads(b64url_decode(parts[0].split(".")[1]))
    dmap = {digest(d): json.loads(b64url_decode(d)) for d in parts[1:] if d}
    wanted = [tuple(parse_pointer(p)) for p in a.disclose] if a.disclose else ALL
    frame = build_frame(payload, wanted, dmap)
    holder = SDJWTHolder(issuance)
    holder.create_presentation(
        frame,
        nonce=a.nonce,
        aud=a.aud,
        holder_key=JWK(**holder_jwk),
        sign_alg=alg_of(holder_jwk),
    )
    print(holder.sd_jwt_presentation)


# --------------------------------------------------------------------------- verify

def cmd_verify(a):
    presentation = sys.stdin.read().strip()
    issuer_key = JWK(**load_jwk(a.issuer_jwk))

    def issuer_key_for(iss, header):
        # Not checked by the library: the SD-JWT VC media type.
        if header.get("typ") != a.typ:
            raise ValueError(f"typ is {header.get('typ')!r}, expected {a.typ!r}")
        return issuer_key

    # Note: the library verifies the KB-JWT with alg ES256 only (hard-coded).
    verifier = SDJWTVerifier(presentation, issuer_key_for, expected_aud=a.aud, expected_nonce=a.nonce)
    print(json.dumps(verifier.get_verified_payload(), ensure_ascii=False, indent=2))


def main():
    p = argparse.ArgumentParser(prog="py_peer.py")
    sub = p.add_subparsers(dest="cmd", required=True)

    i = sub.add_parser("issue")
    i.add_argument("--issuer-key", required=True)
    i.add_argument("--holder-jwk", required=True)
    i.add_argument("--iss", required=True)
    i.add_argument("--vct", required=True)
    i.add_argument("--claims", required=True)
    i.add_argument("--sd", action="append", default=[])
    i.add_argument("--exp", type=int, default=3600)
    i.add_argument("--typ", default="dc+sd-jwt")

    pr = sub.add_parser("present")
    pr.add_argument("--holder-key", required=True)
    pr.add_argument("--aud", required=True)
    pr.add_argument("--nonce", required=True)
    pr.add_argument("--disclose", action="append", default=[])

    v = sub.add_parser("verify")
    v.add_argument("--issuer-jwk", required=True)
    v.add_argument("--aud", required=True)
    v.add_argument("--nonce", required=True)
    v.add_argument("--typ", default="dc+sd-jwt")

    a = p.parse_args()
    try:
        {"issue": cmd_issue, "present": cmd_present, "verify": cmd_verify}[a.cmd](a)
    except Exception as e:  # noqa: BLE001 — report any library error as a failure
        print(f"py_peer {a.cmd}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""SM2/SM3 interoperability check against gmssl (PyPI), an independent implementation.

Reads JSON on stdin: {"public_key": hex (04||x||y), "message": hex, "signature": hex (r||s),
"tampered": hex}. Verifies yiwang's signature with gmssl, checks gmssl rejects it for the
tampered message, then signs the message with a fresh gmssl key so yiwang can verify the other
way. Prints JSON: {"verified": bool, "tampered_rejected": bool, "gmssl_public_key": hex,
"gmssl_signature": hex}.
"""
import json
import sys

from gmssl import sm2, func

req = json.load(sys.stdin)
pub = req["public_key"]
assert pub.startswith("04") and len(pub) == 130, "expected an uncompressed SEC1 key"
ours = sm2.CryptSM2(private_key=None, public_key=pub[2:])
msg = bytes.fromhex(req["message"])
verified = ours.verify_with_sm3(req["signature"], msg)
tampered_rejected = not ours.verify_with_sm3(req["signature"], bytes.fromhex(req["tampered"]))

# A gmssl key pair: d random, P = dG (gmssl's own point multiplication).
while True:
    d = func.random_hex(64)
    helper = sm2.CryptSM2(private_key=d, public_key="00" * 64)
    p = helper._kg(int(d, 16), sm2.default_ecc_table["g"])
    # gmssl strips leading "04"/"0" characters of a key (lstrip): avoid keys that start so.
    if p[0] not in "04":
        break
theirs = sm2.CryptSM2(private_key=d, public_key=p)
sig = theirs.sign_with_sm3(msg)
print(json.dumps({"verified": verified, "tampered_rejected": tampered_rejected, "gmssl_public_key": "04" + p, "gmssl_signature": sig}))

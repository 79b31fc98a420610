#!/usr/bin/env python3
"""Independent verifier of yiwang's tamper-evident ledger, written from docs/ledger-format.md.

Needs only the Python standard library and gmssl (pip install gmssl) for SM3 and SM2; SHA-256
logs need nothing extra, and Ed25519 heads are checked when the `cryptography` package exists.

  ledger_verify.py log --url http://127.0.0.1:8080 [--samples 20]
      Fetch every leaf and signed head, recompute each leaf hash, the hash chain and the root
      of every head; check head signatures; check consistency proofs between successive heads
      and inclusion proofs of random leaves served by the log.

  ledger_verify.py bundle FILE
      Check a case's proof bundle ("verify this history" download): the head's signature,
      each record's content hash and leaf hash, and its inclusion proof.

Exit status 0 when everything holds, 1 otherwise.
"""
import argparse
import base64
import hashlib
import json
import random
import sys
import urllib.request


def hasher(name):
    if name == "sha256":
        return lambda b: hashlib.sha256(b).digest()
    if name != "sm3":
        raise SystemExit(f"unknown hash {name}")
    try:
        hashlib.new("sm3")
        return lambda b: hashlib.new("sm3", b).digest()
    except ValueError:
        from gmssl import func, sm3

        return lambda b: bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(b)))


def canonical(value):
    """JSON with sorted keys, no whitespace, UTF-8 (RFC 8785 for the values yiwang uses)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class Tree:
    def __init__(self, h):
        self.h = h

    def leaf(self, data):
        return self.h(b"\x00" + data)

    def node(self, left, right):
        return self.h(b"\x01" + left + right)

    def envelope_leaf(self, e, content=None):
        data = canonical({"content": content or e["content"], "index": e["index"], "key": e["key"], "prev": e["prev"], "source": e["source"]})
        return self.leaf(data.encode("utf-8"))

    def verify_inclusion(self, index, size, leaf, path, root):
        """RFC 9162 section 2.1.3.2."""
        if index >= size:
            return False
        fn, sn, r = index, size - 1, leaf
        for p in path:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = self.node(p, r)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                r = self.node(r, p)
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root

    def verify_consistency(self, first, second, first_root, second_root, proof):
        """RFC 9162 section 2.1.4.2."""
        if first == second:
            return not proof and first_root == second_root
        if first == 0 or first > second or not proof:
            return False
        path = ([first_root] if first & (first - 1) == 0 else []) + proof
        fn, sn = first - 1, second - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = self.node(c, fr)
                sr = self.node(c, sr)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = self.node(sr, c)
            fn >>= 1
            sn >>= 1
        return fr == first_root and sr == second_root and sn == 0


class Frontier:
    """Maximal complete subtrees of a growing tree; its root at any size."""

    def __init__(self, tree):
        self.tree, self.stack, self.size = tree, [], 0

    def push(self, leaf):
        level, node = 0, leaf
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            node = self.tree.node(left, node)
            level += 1
        self.stack.append((level, node))
        self.size += 1

    def root(self):
        if not self.stack:
            return self.tree.h(b"")
        acc = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            acc = self.tree.node(left, acc)
        return acc


def head_message(head):
    fields = {k: head[k] for k in ("format", "hash", "key_id", "root", "timestamp", "tree_size")}
    return canonical(fields).encode("utf-8")


def verify_signature(head, key):
    if key is None or key["key_id"] != head["key_id"]:
        return False
    sig = base64.b64decode(head["signature"])
    msg = head_message(head)
    if key["algorithm"] == "SM2-SM3":
        from gmssl import sm2

        verifier = sm2.CryptSM2(private_key=None, public_key="00" * 64)
        # Set after construction: gmssl's constructor strips leading '0'/'4' characters.
        pub = key["public_key"]
        verifier.public_key = pub[2:] if pub.startswith("04") and len(pub) == 130 else pub
        return bool(verifier.verify_with_sm3(sig.hex(), msg))
    if key["algorithm"] == "Ed25519":
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            print("  ! Ed25519 head signatures need the 'cryptography' package; not checked")
            return False
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"])).verify(sig, msg)
            return True
        except Exception:
            return False
    return False


def fetch(base, path):
    with urllib.request.urlopen(base.rstrip("/") + path, timeout=30) as r:
        return json.load(r)


def check_log(base, samples):
    info = fetch(base, "/api/v1/ledger")
    tree = Tree(hasher(info["hash"]))
    keys = {k["key_id"]: k for k in info["keys"]}
    heads = sorted(fetch(base, "/api/v1/ledger/heads?limit=10000"), key=lambda h: h["tree_size"])
    problems = []
    if not heads:
        problems.append("no signed head")
    size = max([h["tree_size"] for h in heads] + [0])
    frontier = Frontier(tree)
    pending = list(heads)
    prev = bytes(32)
    start = 0
    while start < size:
        batch = fetch(base, f"/api/v1/ledger/leaves?start={start}&end={min(start + 1000, size)}")
        if not batch:
            problems.append(f"leaves from {start} missing")
            break
        for e in batch:
            if e["index"] != frontier.size:
                problems.append(f"leaf {frontier.size}: got index {e['index']}")
            if e["prev"] != prev.hex():
                problems.append(f"leaf {e['index']}: hash chain broken")
            leaf = tree.envelope_leaf(e)
            if leaf.hex() != e["leaf_hash"]:
                problems.append(f"leaf {e['index']}: leaf hash does not match its fields")
            frontier.push(leaf)
            prev = leaf
            while pending and pending[0]["tree_size"] == frontier.size:
                h = pending.pop(0)
                if frontier.root().hex() != h["root"]:
                    problems.append(f"head of {h['tree_size']} at {h['timestamp']}: root does not match the leaves")
        start += len(batch)
    for h in heads:
        if not verify_signature(h, keys.get(h["key_id"])):
            problems.append(f"head of {h['tree_size']} at {h['timestamp']}: bad signature")
    for a, b in zip(heads, heads[1:]):
        if 0 < a["tree_size"] < b["tree_size"]:
            p = fetch(base, f"/api/v1/ledger/proofs/consistency?first={a['tree_size']}&second={b['tree_size']}")
            proof = [bytes.fromhex(x) for x in p["path"]]
            if not tree.verify_consistency(a["tree_size"], b["tree_size"], bytes.fromhex(a["root"]), bytes.fromhex(b["root"]), proof):
                problems.append(f"heads {a['tree_size']} -> {b['tree_size']}: inconsistent")
    if heads and size:
        last = heads[-1]
        rng = random.Random(7426)
        for _ in range(samples):
            i = rng.randrange(size)
            p = fetch(base, f"/api/v1/ledger/proofs/inclusion?index={i}&tree_size={size}")
            proof = [bytes.fromhex(x) for x in p["path"]]
            if not tree.verify_inclusion(i, size, bytes.fromhex(p["leaf_hash"]), proof, bytes.fromhex(last["root"])):
                problems.append(f"leaf {i}: inclusion proof fails")
    print(f"ledger {info['hash']}: {frontier.size} leaves, {len(heads)} signed heads, {samples if size else 0} inclusion proofs checked")
    return problems


def check_bundle(path):
    with open(path, encoding="utf-8") as f:
        b = json.load(f)
    tree = Tree(hasher(b["hash"]))
    problems = []
    head = b.get("head")
    if head is None:
        return ["bundle has no signed head"]
    if not verify_signature(head, b.get("key")):
        problems.append("head signature invalid")
    root = bytes.fromhex(head["root"])
    for p in b["entries"]:
        content = tree.h(canonical(p["record"]).encode("utf-8")).hex()
        if content != p["content"]:
            problems.append(f"entry {p['index']} ({p['key']}): record does not match its content hash")
        leaf = tree.envelope_leaf(p, content)
        proof = [bytes.fromhex(x) for x in p["proof"]]
        if leaf.hex() != p["leaf_hash"] or not tree.verify_inclusion(p["index"], head["tree_size"], leaf, proof, root):
            problems.append(f"entry {p['index']} ({p['key']}): not proven in the head of {head['tree_size']}")
    print(f"bundle: {len(b['entries'])} records against the head of {head['tree_size']} signed {head['timestamp']}; {len(b.get('pending', []))} pending")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    log = sub.add_parser("log")
    log.add_argument("--url", required=True)
    log.add_argument("--samples", type=int, default=20)
    bundle = sub.add_parser("bundle")
    bundle.add_argument("file")
    args = ap.parse_args()
    problems = check_log(args.url, args.samples) if args.mode == "log" else check_bundle(args.file)
    for p in problems:
        print("  x " + p)
    print("OK" if not problems else f"FAILED ({len(problems)} problems)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

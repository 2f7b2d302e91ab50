"""Transparency-log primitives: canonical entries, RFC 9162 Merkle proofs, signed tree heads.

Pure library (standard library + ``cryptography``); the persisted log builds on it. The format
is documented in ``docs/ledger.md``.

* ``canonical_json`` -- the bytes of an entry (the Merkle leaf input);
* ``leaf_hash``/``node_hash``/``root_hash``, ``inclusion_proof``/``verify_inclusion``,
  ``consistency_proof``/``verify_consistency`` -- RFC 9162 §2.1;
* ``*_from_hashes`` and ``*_nodes``/``range_hash_nodes``/``assemble_proof`` -- the same proofs
  from precomputed leaf hashes or from stored perfect-subtree hashes in O(log n) lookups;
* ``TreeHead``/``sign_tree_head``/``verify_tree_head``/``verify_receipt`` -- Ed25519 tree heads
  and offline-checkable receipts.
"""

from .canonical import MAX_DEPTH, canonical_json
from .memory import MemoryLog
from .merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    assemble_proof,
    consistency_proof,
    consistency_proof_from_hashes,
    consistency_proof_nodes,
    fold_subtree_hashes,
    inclusion_proof,
    inclusion_proof_from_hashes,
    inclusion_proof_nodes,
    is_perfect,
    leaf_hash,
    node_hash,
    node_key,
    node_range,
    nodes_completed_by,
    proof_node_keys,
    range_hash_nodes,
    root_from_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from .signing import (
    SIGNATURE_SIZE,
    TreeHead,
    build_receipt,
    generate_private_key,
    load_private_key_pem,
    load_public_key_pem,
    private_key_to_pem,
    public_key_to_pem,
    sign_tree_head,
    tree_head_from_json,
    tree_head_message,
    tree_head_to_json,
    verify_receipt,
    verify_tree_head,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_DEPTH",
    "MemoryLog",
    "SIGNATURE_SIZE",
    "TreeHead",
    "assemble_proof",
    "build_receipt",
    "canonical_json",
    "consistency_proof",
    "consistency_proof_from_hashes",
    "consistency_proof_nodes",
    "fold_subtree_hashes",
    "generate_private_key",
    "inclusion_proof",
    "inclusion_proof_from_hashes",
    "inclusion_proof_nodes",
    "is_perfect",
    "leaf_hash",
    "load_private_key_pem",
    "load_public_key_pem",
    "node_hash",
    "node_key",
    "node_range",
    "nodes_completed_by",
    "private_key_to_pem",
    "proof_node_keys",
    "public_key_to_pem",
    "range_hash_nodes",
    "root_from_hashes",
    "root_hash",
    "sign_tree_head",
    "tree_head_from_json",
    "tree_head_message",
    "tree_head_to_json",
    "verify_consistency",
    "verify_inclusion",
    "verify_receipt",
    "verify_tree_head",
]

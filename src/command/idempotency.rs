//! What makes a retry a retry: a caller's key, scoped to the caller without ambiguity, and
//! the hash of the request it was first sent with. The dispatcher answers a key it has seen
//! with the first answer only when the request is the same; the same key with another
//! command, another body or another project is refused, never silently answered.

use super::{CommandRequest, stream_of};
use crate::domain::Actor;
use crate::store::Hash;

/// The command id of a caller's idempotency key: `key:` and blake3 over the caller (sub, role,
/// department) and the key, each length-prefixed. Keys are per caller, so one caller's key can
/// never replay another's answer, also not the same name acting for another department; no
/// choice of name and key can spell another pair (`zhang` + `wei:1` is not `zhang:wei` + `1`);
/// and the id has one length whatever the name and key (the envelope names the caller).
pub fn scoped_command_id(actor: &Actor, key: &str) -> String {
    let mut h = blake3::Hasher::new_derive_key("duban idempotency key v1");
    let dept = actor.dept.as_ref().map_or("", |d| d.as_str());
    for part in [actor.sub.as_str(), actor.role.as_str(), dept, key] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    format!("key:{}", h.finalize().to_hex())
}

/// The id the same key had before keys were scoped as above (`{sub}:{key}`): looked up too,
/// so that a retry sent across an upgrade is still answered from the first append.
pub fn legacy_command_id(actor: &Actor, key: &str) -> String {
    format!("{}:{key}", actor.sub)
}

/// blake3 over the project's stream and the command as the domain reads it (ids the command
/// creates included, as they are derived from the key).
pub fn request_hash(req: &CommandRequest) -> Hash {
    let mut h = blake3::Hasher::new_derive_key("duban request v1");
    let stream = stream_of(req.project);
    h.update(&(stream.as_str().len() as u64).to_le_bytes());
    h.update(stream.as_str().as_bytes());
    let command = serde_json::to_vec(&req.command).expect("commands serialise");
    h.update(&command);
    Hash(*h.finalize().as_bytes())
}

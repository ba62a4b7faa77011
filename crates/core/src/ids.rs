//! Ids a device makes offline that are unique everywhere and cost almost nothing on the wire.
//!
//! An event's id is derived from its device and sequence number, and a new household's,
//! resident's or visit's id from its device and a per-device counter. Both are UUIDv8: ten
//! bytes that depend only on the device (a hash of its id, one for events and another for
//! records) and six bytes of counter. In a push batch every id therefore shares its first 24 hex
//! digits with the one before it: zstd stores the repeat in a few bytes, where a random UUIDv7
//! costs about ten. The server can recompute an event's id, so a push leaves it out altogether.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The largest counter or sequence number an id holds (48 bits).
pub const MAX_COUNTER: u64 = (1 << 48) - 1;

/// What the ten device bytes of an id are hashed for, so event and record ids never collide.
#[derive(Debug, Clone, Copy)]
enum Namespace {
    Event,
    Record,
}

fn derived(namespace: Namespace, device_id: Uuid, counter: u64) -> Uuid {
    let tag: &[u8] = match namespace {
        Namespace::Event => b"gocua/event-id/v1",
        Namespace::Record => b"gocua/record-id/v1",
    };
    let hash = Sha256::new().chain_update(tag).chain_update(device_id.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes[..10].copy_from_slice(&hash[..10]);
    bytes[10..].copy_from_slice(&(counter & MAX_COUNTER).to_be_bytes()[2..]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The id of a device's event `seq`: what the device stores and the server recomputes.
pub fn event_id(device_id: Uuid, seq: u64) -> Uuid {
    derived(Namespace::Event, device_id, seq)
}

/// The id of the `counter`-th household, resident or visit a device created.
pub fn record_id(device_id: Uuid, counter: u64) -> Uuid {
    derived(Namespace::Record, device_id, counter)
}

/// What an imported record is, so a household and a person never share an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedKind {
    /// A household an imported list brings.
    Household,
    /// A person an imported list brings.
    Resident,
}

/// The id of a household or person that an imported list brings, from the key the importer
/// gives its row (a hash of the commune and the CCCD, or of the name, birth year and household):
/// the same row imported again, on any office device, names the same record, so a re-import
/// updates instead of duplicating. UUIDv8 from a SHA-256 of the kind and the key.
pub fn imported_id(kind: ImportedKind, key: &str) -> Uuid {
    imported_id_at(kind, key, 0)
}

/// How many times the same row may be imported again after its import was undone.
pub const MAX_IMPORT_GENERATIONS: u32 = 64;

/// The id of an imported row's record after `generation` undone imports of it. An undone
/// import leaves its records as tombstones (`import_undone`), so importing the row again makes
/// a new record, named from the key and the generation: every office device that holds the same
/// tombstones names it alike. Generation 0 is [`imported_id`].
pub fn imported_id_at(kind: ImportedKind, key: &str, generation: u32) -> Uuid {
    let tag: &[u8] = match kind {
        ImportedKind::Household => b"gocua/imported-household/v1",
        ImportedKind::Resident => b"gocua/imported-resident/v1",
    };
    let mut hasher = Sha256::new().chain_update(tag).chain_update(key.as_bytes());
    if generation > 0 {
        // a NUL never occurs in a key, so no key of generation 0 hashes alike
        hasher.update(format!("\0{generation}").as_bytes());
    }
    let hash = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuidv8_and_depend_on_device_counter_and_kind() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let id = event_id(a, 7);
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(id, event_id(a, 7), "derived again, the same id");
        assert_ne!(id, event_id(a, 8));
        assert_ne!(id, event_id(b, 7));
        assert_ne!(id, record_id(a, 7), "an event and a record never share an id");
        assert!(id.to_string().ends_with("-000000000007"), "the counter is the last group: {id}");
    }

    #[test]
    fn an_imported_id_depends_only_on_its_kind_and_key() {
        let id = imported_id(ImportedKind::Resident, "k1");
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(id, imported_id(ImportedKind::Resident, "k1"), "the same row, the same record");
        assert_ne!(id, imported_id(ImportedKind::Resident, "k2"));
        assert_ne!(id, imported_id(ImportedKind::Household, "k1"));
        assert_eq!(id, imported_id_at(ImportedKind::Resident, "k1", 0), "generation 0 is the first import's");
        assert_ne!(
            id,
            imported_id_at(ImportedKind::Resident, "k1", 1),
            "an import again after an undo names a new record"
        );
        assert_ne!(imported_id_at(ImportedKind::Resident, "k1", 1), imported_id_at(ImportedKind::Resident, "k1", 2));
    }

    #[test]
    fn consecutive_ids_share_everything_but_the_counter() {
        let device = Uuid::now_v7();
        let (one, two) = (record_id(device, 1).to_string(), record_id(device, 2).to_string());
        assert_eq!(one[..24], two[..24]);
        assert_ne!(one, two);
    }
}

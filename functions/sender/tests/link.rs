//! How the Lambda bootstrap is linked (functions/sender/build.rs, docs/sender.md "The bootstrap
//! is linked at a fixed address"): a position-dependent executable on Linux, so that a cold start
//! applies no relative relocations.

/// The ELF header's `e_type` (2 is `ET_EXEC`, a fixed-address executable; 3 is `ET_DYN`, which a
/// position-independent executable is) of the built bootstrap.
#[cfg(target_os = "linux")]
#[test]
fn the_bootstrap_is_linked_at_a_fixed_address() {
    let path = env!("CARGO_BIN_EXE_hookline-sender");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.get(..4), Some(&b"\x7fELF"[..]), "{path}: not ELF");
    // e_ident is 16 bytes; e_type follows in the file's byte order (EI_DATA: 1 little, 2 big).
    let raw: [u8; 2] = bytes.get(16..18).unwrap().try_into().unwrap();
    let e_type = match bytes.get(5) {
        Some(1) => u16::from_le_bytes(raw),
        Some(2) => u16::from_be_bytes(raw),
        other => panic!("{path}: EI_DATA {other:?}"),
    };
    assert_eq!(
        e_type, 2,
        "the bootstrap should be ET_EXEC (linked with -no-pie by build.rs), not a PIE"
    );
}

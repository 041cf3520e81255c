//! How the Lambda bootstrap is linked (functions/sender/build.rs, docs/sender.md "The bootstrap
//! is linked at a fixed address"): a position-dependent executable on Linux, so that a cold start
//! applies no relative relocations.

/// The ELF header's `e_type` of the file at `path`: 2 is `ET_EXEC` (a fixed-address
/// executable), 3 is `ET_DYN` (a shared object, which a position-independent executable is).
#[cfg(target_os = "linux")]
fn elf_type(path: &str) -> u16 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "{path} is not an ELF file");
    // e_ident is 16 bytes; e_type follows, in the file's byte order (EI_DATA: 1 little, 2 big).
    let raw = [bytes[16], bytes[17]];
    match bytes[5] {
        1 => u16::from_le_bytes(raw),
        2 => u16::from_be_bytes(raw),
        other => panic!("{path}: unknown EI_DATA {other}"),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_bootstrap_is_linked_at_a_fixed_address() {
    assert_eq!(
        elf_type(env!("CARGO_BIN_EXE_hookline-sender")),
        2,
        "the bootstrap should be ET_EXEC (linked with -no-pie by build.rs), not a PIE"
    );
}

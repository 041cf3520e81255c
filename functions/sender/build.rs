//! Links the Lambda bootstrap (the `hookline-sender` binary, and nothing else of this package) as
//! a position-dependent executable on Linux.
//!
//! A cold start pays the dynamic loader for every pointer in the binary's data: as a PIE, the
//! bootstrap carried about 12,300 `R_*_RELATIVE` relocations (the minimal `lambda_runtime`
//! function, 2,000), which the loader applies one by one at exec, writing to, and so faulting in
//! and copying, every page of `.data.rel.ro`. Linked at a fixed address the linker resolves them
//! all: exec to the first event went from 0.98M to 0.80-0.82M instructions and 215-227 to 162-173
//! page faults (callgrind and `perf stat` around `functions/sender/bench/cold_start.py --wrap`;
//! the minimal function, a PIE: 0.67-0.68M and 136-139). Lambda's glibc (2.34 on
//! provided.al2023) predates packed relative relocations (`DT_RELR`, glibc 2.36), the other way
//! to shrink them.
//!
//! The price: the bootstrap's own code and data sit at a fixed address (no ASLR for the
//! executable image; shared libraries, heap, stack and thread stacks stay randomised).
//!
//! Only the final link changes: every crate is still compiled as position-independent code
//! (rustc's default), so proc-macros, build scripts, tests, benches, examples (the cold-start
//! bench's peer among them) and other targets build as before. The flag is a link argument, so it
//! applies wherever the binary is linked: `cargo build`, and `cargo lambda build` (zig as the
//! linker), which `sam build` runs for template.yaml (`BuildMethod: rust-cargolambda`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // GNU ld, lld and zig's linker all take `-no-pie` after rustc's `-pie` (the last one wins).
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=hookline-sender=-no-pie");
    }
}

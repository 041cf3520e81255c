//! Helpers the unit tests of several commands share.

/// Parses `argv` (without the program name) into one command's `Args`, as `hookline` would:
/// the tests check the parser's rules (required, conflicting options) without a `main`.
pub fn parse_args<A: clap::Args>(argv: &[&str]) -> Result<A, clap::Error> {
    let matches = A::augment_args(clap::Command::new("hookline"))
        .try_get_matches_from(std::iter::once("hookline").chain(argv.iter().copied()))?;
    A::from_arg_matches(&matches)
}

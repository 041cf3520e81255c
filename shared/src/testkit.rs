//! Test helpers shared by the core's unit tests: a deterministic stand-in for the fuzzers.
//!
//! The core may not draw random numbers, and the tests must be reproducible, so the mutations
//! come from a fixed-seed xorshift rather than from a random source.

/// A xorshift64 generator from `seed` (which must not be zero): the same sequence every run.
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Feeds `check` every prefix and suffix of each seed, each seed with one character replaced by
/// each of `alphabet`, then 20 000 strings of up to `max_len - 1` characters drawn from
/// `alphabet` by a xorshift from `rng_seed`.
pub(crate) fn mangle_text(
    seeds: &[&str],
    alphabet: &str,
    max_len: u64,
    rng_seed: u64,
    mut check: impl FnMut(&str),
) {
    let alphabet: Vec<char> = alphabet.chars().collect();
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        for cut in 0..=chars.len() {
            check(&chars[..cut].iter().collect::<String>());
            check(&chars[cut..].iter().collect::<String>());
        }
        for i in 0..chars.len() {
            for &c in &alphabet {
                let mut mutated = chars.clone();
                mutated[i] = c;
                check(&mutated.iter().collect::<String>());
            }
        }
    }
    let mut next = xorshift(rng_seed);
    for _ in 0..20_000 {
        let len = (next() % max_len) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        check(&s);
    }
}

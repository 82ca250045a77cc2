//! The one error type of the FFS core: small, `Copy + Eq`, with a human sentence for each case.
//!
//! Every value that arrives from the network is decoded, validated and then either used or
//! turned into one of these variants; nothing in the core panics on a peer's input.

use core::fmt;

/// Why an FFS operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// A big number was not in the one canonical encoding (lowercase hex, no leading zeros,
    /// no sign, no whitespace, not empty).
    NonCanonical,
    /// A big number had more bits than allowed (more than |n|, or more than 4096 before |n|
    /// is known); checked before the digits are parsed.
    TooLong,
    /// A value that must be nonzero was zero.
    Zero,
    /// A value that must lie in [1, n − 1] was ≥ n.
    OutOfRange,
    /// A value shares a factor with n, so it is not a unit modulo n.
    NotCoprime,
    /// The modulus size is outside the allowed range (1024..=4096 bits, or the demo range).
    ModulusSize,
    /// The modulus is even, so it cannot be a Blum integer.
    ModulusEven,
    /// The number of secrets k is outside 1..=64, or a key part has the wrong count.
    KeyCount,
    /// A challenge does not have exactly k bits, or contains a character other than 0 or 1.
    ChallengeLength,
    /// The number of rounds t is zero or too large.
    RoundCount,
    /// A challenge was asked for or supplied before the round's commitment.
    ChallengeBeforeCommitment,
    /// A response arrived before the round's challenge.
    ResponseBeforeChallenge,
    /// A second commitment arrived in a round that already has one.
    SecondCommitment,
    /// A commitment x was repeated within one run; the run fails.
    RepeatedCommitment,
    /// The session already has its verdict; no further messages are taken.
    SessionFinished,
    /// The verification equation y² · ∏ I_j^{e_j} ≡ ±x (mod n) did not hold.
    CheckFailed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonCanonical => "number is not in canonical lowercase hex without leading zeros",
            Self::TooLong => "number has more bits than the modulus allows",
            Self::Zero => "value must not be zero",
            Self::OutOfRange => "value must be less than the modulus n",
            Self::NotCoprime => "value is not coprime to the modulus n",
            Self::ModulusSize => "modulus size is outside the allowed range",
            Self::ModulusEven => "modulus must be odd",
            Self::KeyCount => "number of secrets k must be between 1 and 64 and match the key",
            Self::ChallengeLength => "challenge must be exactly k characters of 0 or 1",
            Self::RoundCount => "number of rounds t must be between 1 and 1024",
            Self::ChallengeBeforeCommitment => "challenge before the round's commitment",
            Self::ResponseBeforeChallenge => "response before the round's challenge",
            Self::SecondCommitment => "second commitment in the same round",
            Self::RepeatedCommitment => "commitment x repeated within the run",
            Self::SessionFinished => "session already has its verdict",
            Self::CheckFailed => "verification failed: y² · ∏ I_j^e_j ≢ ±x (mod n)",
        })
    }
}

impl core::error::Error for Error {}

//! Checksums a regex match must pass before it counts (`validate = "..."` on regex rules).
//!
//! A 16-digit number is not a payment card unless its Luhn checksum holds; a string shaped like
//! an IBAN is not one unless its mod-97 check holds. Validating keeps the false-positive rate of
//! broad patterns low without making the patterns themselves clever. To add a validator, add a
//! variant, its name in [`Validator::NAMES`] and [`Validator::parse`], and its check.

/// A named check on matched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Validator {
    /// Payment card numbers: 13–19 digits (spaces and dashes ignored) with a valid Luhn checksum.
    Luhn,
    /// International bank account numbers: country code, check digits, the country's length, and
    /// the ISO 13616 mod-97 check (spaces ignored).
    Iban,
}

impl Validator {
    /// The names accepted in rule files.
    pub const NAMES: &'static [&'static str] = &["luhn", "iban"];

    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "luhn" => Some(Validator::Luhn),
            "iban" => Some(Validator::Iban),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Validator::Luhn => "luhn",
            Validator::Iban => "iban",
        }
    }

    /// Whether `matched` passes the check.
    pub fn check(self, matched: &str) -> bool {
        match self {
            Validator::Luhn => luhn(matched),
            Validator::Iban => iban(matched),
        }
    }
}

fn luhn(s: &str) -> bool {
    let mut digits = [0u8; 19];
    let mut n = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => {
                if n == digits.len() {
                    return false;
                }
                digits[n] = b - b'0';
                n += 1;
            }
            b' ' | b'-' | b'.' | b'\t' | b'\n' | b'\r' => {}
            _ => return false,
        }
    }
    if n < 13 {
        return false;
    }
    let sum: u32 = digits[..n]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country (ISO 13616 registry, the countries a European or North-Atlantic
/// business meets most). A country not listed is accepted with any length from 15 to 34, so the
/// table only sharpens the check; the mod-97 checksum is what rejects random strings.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
    ("UA", 29),
];

fn iban(s: &str) -> bool {
    let mut chars = [0u8; 34];
    let mut n = 0;
    for b in s.bytes() {
        match b {
            b' ' => {}
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                if n == chars.len() {
                    return false;
                }
                chars[n] = b.to_ascii_uppercase();
                n += 1;
            }
            _ => return false,
        }
    }
    let iban = &chars[..n];
    if n < 15 || !iban[..2].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    if !iban[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let expected = IBAN_LENGTHS
        .iter()
        .find(|(cc, _)| cc.as_bytes() == &iban[..2])
        .map(|&(_, len)| len);
    if expected.is_some_and(|len| len != n) {
        return false;
    }
    // Move the first four characters to the end, letters become 10..35, the number mod 97
    // must be 1. Computed digit by digit so it never overflows.
    let mut rem: u32 = 0;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_neighbours() {
        for good in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
            "4222222222222",
        ] {
            assert!(Validator::Luhn.check(good), "{good}");
        }
        for bad in [
            "4111111111111112",
            "1234567812345678",
            "411111111111",
            "41111111111111111111",
            "4111x111111111111",
        ] {
            assert!(!Validator::Luhn.check(bad), "{bad}");
        }
    }

    #[test]
    fn iban_checks_length_and_mod97() {
        for good in [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "gb82 west 1234 5698 7654 32",
        ] {
            assert!(Validator::Iban.check(good), "{good}");
        }
        for bad in [
            "DE89370400440532013001",
            "DE8937040044053201300",
            "GB82WEST1234569876543",
            "XX00",
            "DE89-3704-0044-0532-0130-00",
        ] {
            assert!(!Validator::Iban.check(bad), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for name in Validator::NAMES {
            assert_eq!(Validator::parse(name).map(Validator::as_str), Some(*name));
        }
        assert_eq!(Validator::parse("crc32"), None);
    }
}

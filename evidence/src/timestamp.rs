//! Points in time as the format writes them. The crate never reads the clock:
//! callers pass a [`Timestamp`] in.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant in whole seconds, written as RFC 3339 (`2026-11-21T10:00:00Z`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Text that is not an RFC 3339 timestamp.
#[derive(Debug, thiserror::Error)]
#[error("'{value}' is not an RFC 3339 time; write it like 2026-11-21T10:00:00Z")]
pub struct TimestampError {
    /// The rejected text.
    pub value: String,
}

impl Timestamp {
    /// The instant `seconds` after the Unix epoch.
    pub fn from_unix(seconds: i64) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(Self)
            .map_err(|_| TimestampError { value: seconds.to_string() })
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Parses RFC 3339 text in any offset; sub-second digits are dropped.
    pub fn parse(value: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError { value: value.chars().take(64).collect() };
        let parsed = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| err())?;
        Self::from_unix(parsed.unix_timestamp()).map_err(|_| err())
    }

    /// The date and time in UTC, for formats (such as zip) that store them apart.
    pub fn utc(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Formatting a whole-second UTC instant as RFC 3339 cannot fail for
        // years 0..=9999, which from_unix guarantees through time's range.
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "@{}", self.unix()),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_rfc3339() {
        let t = Timestamp::from_unix(1_795_000_000).unwrap();
        assert_eq!(t.to_string(), "2026-11-18T11:06:40Z");
        assert_eq!(Timestamp::parse("2026-11-18T12:06:40+01:00").unwrap(), t);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Timestamp::parse("yesterday").is_err());
    }
}

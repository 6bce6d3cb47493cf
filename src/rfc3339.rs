//! Reading the times the service writes: `DateTime<Utc>`'s `Serialize` writes RFC 3339, and
//! chrono's RFC 3339 parser reads that several times faster than the general parser its
//! `Deserialize` goes through. Used for the times read back from every stored event (the
//! envelope's `recorded_at` and the payloads' own times) when the read models are rebuilt.

use std::fmt;

use chrono::{DateTime, Utc};

/// For `#[serde(deserialize_with = "crate::rfc3339::deserialize")]`: reads an RFC 3339 time,
/// and through chrono's general parser whatever the fast one refuses (a year outside
/// 0000–9999), so that it reads all that `DateTime<Utc>`'s own `Deserialize` reads.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    struct Rfc3339;
    impl serde::de::Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 time")
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| s.parse::<DateTime<Utc>>())
                .map_err(E::custom)
        }
    }
    d.deserialize_str(Rfc3339)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct At {
        #[serde(deserialize_with = "super::deserialize")]
        at: DateTime<Utc>,
    }

    fn read(json: &str) -> Result<DateTime<Utc>, serde_json::Error> {
        serde_json::from_str::<At>(json).map(|a| a.at)
    }

    #[test]
    fn reads_what_datetime_writes_and_what_its_own_deserialize_reads() {
        for t in [
            Utc.with_ymd_and_hms(2026, 11, 27, 1, 2, 3).unwrap(),
            Utc.timestamp_nanos(1_795_000_000_123_456_789),
            Utc.with_ymd_and_hms(12000, 1, 1, 0, 0, 0).unwrap(),
        ] {
            let json = serde_json::json!({ "at": t }).to_string();
            assert_eq!(read(&json).unwrap(), t, "{json}");
            let value = serde_json::json!({ "at": t });
            assert_eq!(At::deserialize(value).unwrap().at, t);
        }
        assert_eq!(
            read(r#"{"at":"2026-11-27T09:02:03+08:00"}"#).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 27, 1, 2, 3).unwrap()
        );
        assert!(read(r#"{"at":"yesterday"}"#).is_err());
        assert!(read(r#"{"at":20261127}"#).is_err());
    }
}

//! How command bodies spell what the domain types cannot say by themselves: a calendar date
//! is exactly `YYYY-MM-DD` (chrono alone also takes `2018-1-1` and `+10000-01-01`).

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, de::Error};

/// Parses `YYYY-MM-DD` with a four-digit year, two-digit month and day, nothing else.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let date = shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten();
    date.ok_or_else(|| format!("{text:?} is not a date written YYYY-MM-DD, e.g. 2018-06-30"))
}

/// `#[serde(deserialize_with = "wire::date")]`
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(d)?;
    parse_date(&text).map_err(D::Error::custom)
}

/// `#[serde(deserialize_with = "wire::whole_number")]`: an integer field read from any JSON
/// number that is whole, as JSON Schema's `integer` allows (`2020` or `2020.0`).
pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let value = f64::deserialize(d)?;
    let whole =
        value.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&value);
    if whole {
        Ok(value as i32)
    } else {
        Err(D::Error::custom(format!("{value} is not a whole number")))
    }
}

/// `#[serde(deserialize_with = "wire::at_most::<N, _, _>")]`: a list of at most `N` items,
/// refused as soon as item `N + 1` arrives.
pub fn at_most<'de, const N: usize, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<const N: usize, T>(std::marker::PhantomData<T>);
    impl<'de, const N: usize, T: Deserialize<'de>> serde::de::Visitor<'de> for Bounded<N, T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a list of at most {N} items")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                if items.len() == N {
                    return Err(A::Error::custom(format!("at most {N} items are allowed")));
                }
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_seq(Bounded::<N, T>(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn only_four_digit_years_and_two_digit_months_and_days() {
        assert!(parse_date("2018-06-30").is_ok());
        for bad in [
            "2018-1-1",
            "+10000-01-01",
            "-0001-01-01",
            "2018-02-30",
            "2018-06-30T00:00:00",
            "2018/06/30",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
    }
}

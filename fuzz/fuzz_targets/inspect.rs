//! `inspect`: the first byte picks the Linux readers' text parsers (os-release, passwd, dpkg's
//! status, fstab against an empty table) on the rest, or the rest as the start of an 8 MiB disk
//! whose volumes are inspected (Windows' hives and Linux's files, through the file systems).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vhd_viewer::inspect::{self, linux};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let text = String::from_utf8_lossy(rest);
        let mut notes = Vec::new();
        let _ = linux::os_release(&text);
        let _ = linux::users(&text, "/etc/passwd", &mut notes);
        let _ = linux::dpkg(&text, linux::DPKG_STATUS, &mut notes);
        let _ = linux::zone_of_link(&text);
        let mut blank = vec![0u8; 4096];
        if let Ok(table) = vhd_viewer::parts::read(&mut blank) {
            let _ = linux::fstab(&text, &table);
        }
    } else {
        let mut disk = vhd_viewer_fuzz::Padded { head: rest.to_vec(), size: 8 << 20 };
        if let Ok(table) = vhd_viewer::parts::read(&mut disk) {
            let found = inspect::systems(&mut disk, &table);
            let _ = inspect::compare(&found, &[]);
        }
    }
});

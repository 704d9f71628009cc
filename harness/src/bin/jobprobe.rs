//! jobprobe: see `jobprobe --help` (implemented in `jobcheck::probe`).
//!
//! `no_main`: the Rust runtime's start-up sets SIGPIPE to ignored, which would make the probe
//! report a disposition it did not inherit. With our own C `main` the dispositions stay exactly
//! as the shell left them (std still works; arguments come from `std::env::args`).
#![no_main]

#[unsafe(no_mangle)]
pub extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    jobcheck::probe::main(std::env::args().skip(1).collect())
}

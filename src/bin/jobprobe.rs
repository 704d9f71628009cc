//! jobprobe: see `jobprobe --help` (implemented in `jobcheck::probe`).
fn main() {
    std::process::exit(jobcheck::probe::main(std::env::args().skip(1).collect()));
}

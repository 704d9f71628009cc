use super::*;

#[test]
fn file_stems_are_safe() {
    assert_eq!(file_stem("x"), "x");
    assert_eq!(file_stem("../a b"), "___a_b");
    assert_eq!(file_stem(""), "_");
    assert_eq!(file_stem(&"é".repeat(100)).len(), 48);
}

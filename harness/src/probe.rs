//! jobprobe (todo)

//! jobcheck: drive shells under a pseudo-terminal and check their job control.

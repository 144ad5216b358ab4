//! Black-box test support lives in tests/common.

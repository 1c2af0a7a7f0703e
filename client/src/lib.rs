//! Fieldsync client.

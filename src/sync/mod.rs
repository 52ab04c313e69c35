//! `sync`: the people of identity-provider groups, written into a fragment the Workspace file
//! includes (SPEC §11). So far: the providers' clients, which read one group's users.

// Nothing outside calls the providers yet (the command that does comes separately); until
// then only their tests use them, and a build without tests would call them dead.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod provider;

//! End-to-end tests against a real nats-server and real sled files: one test binary, one module
//! per concern.

mod commands;
mod crash;
mod gateway;
mod partners_projects;
mod readmodel;
mod replication;

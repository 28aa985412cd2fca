//! End-to-end tests against a real nats-server and real sled files: one test binary, one module
//! per concern.

mod accounts;
mod backup;
mod business_dates;
mod cli;
mod cluster;
mod commands;
mod console;
mod console_assessments_reports;
mod console_offers_admin;
mod correlation;
mod crash;
mod gateway;
mod hostile;
mod iati;
mod matching;
mod nats_security;
mod ops;
mod partners_projects;
mod readmodel;
mod replication;
mod reporter;

//! Prints the OpenAPI document (`cargo run -p tatrack-contract --example openapi`).
fn main() {
    println!(
        "{}",
        serde_json::to_string_pretty(&tatrack_contract::openapi::document()).expect("json")
    );
}

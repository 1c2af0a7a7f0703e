//! Authority limits are configuration: set with `admin limits set`, they decide which deals are
//! beyond a person's authority from then on (the demo table applies until then).

mod common;

use common::flags::*;

const GENEROUS: &str = r#"
[[limits]]
role = "salesperson"
max_discount_pct = "20"
max_amount = { CNY = "500000" }
"#;

#[tokio::test]
async fn configured_limits_decide_what_is_beyond_authority() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let customer = make(&sh1, &customer("配置客户", "EAST-SH", "sh1"));
    push_ok(&server, &sh1, vec![customer.push]).await;

    // The demo table: a regular salesperson may give 10 %, so 18 % is flagged.
    let before = make(&sh1, &quotation(customer.id, "sh1", "100", "18"));
    push_ok(&server, &sh1, vec![before.push]).await;
    assert_eq!(kinds_on(&server, before.id), ["beyond_authority"]);

    // With salespeople allowed 20 %, the same discount is within authority.
    let admin = server.state.admin();
    assert_eq!(admin.set_limits_toml(GENEROUS).unwrap(), 1);
    assert!(
        admin
            .limits_toml()
            .unwrap()
            .contains("max_discount_pct = \"20\"")
    );
    let after = make(&sh1, &quotation(customer.id, "sh1", "100", "18"));
    push_ok(&server, &sh1, vec![after.push]).await;
    assert!(kinds_on(&server, after.id).is_empty());

    // A malformed file is refused and changes nothing.
    assert!(
        admin
            .set_limits_toml("[[limits]]\nrole = \"pope\"")
            .is_err()
    );
    assert!(
        admin
            .limits_toml()
            .unwrap()
            .contains("max_discount_pct = \"20\"")
    );
    server.stop().await;
}

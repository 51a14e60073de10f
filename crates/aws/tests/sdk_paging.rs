//! Every list the operator decides on is read to its last page: the SDK path follows `NextToken`/`Marker`
//! against a local server that answers as EC2, EKS and IAM do on a large account (moto answers these lists
//! in one page whatever `MaxResults` says, so it cannot show this).
#![allow(clippy::unwrap_used)]

mod support;

use support::scripted::ScriptedServer;

const EC2_NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// An EC2 `Describe*` answer with one item in `set`, and `nextToken` when given.
fn ec2_page(operation: &str, set: &str, id_field: &str, id: &str, next: Option<&str>) -> String {
    let next = next
        .map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default();
    format!(
        "<{operation}Response xmlns=\"{EC2_NS}\"><requestId>r</requestId><{set}><item><{id_field}>{id}</{id_field}></item></{set}>{next}</{operation}Response>"
    )
}

/// Two pages of an EC2 list: the first names a token, the second (the last) does not.
fn two_ec2_pages(operation: &str, set: &str, id_field: &str) -> Vec<(u16, String)> {
    vec![
        (200, ec2_page(operation, set, id_field, "id-1", Some("page-2"))),
        (200, ec2_page(operation, set, id_field, "id-2", None)),
    ]
}

/// Asserts the server saw two requests and the second asked for the page the first answer named.
fn assert_followed(server: &ScriptedServer, token_param: &str, operation: &str) {
    let received = server.received();
    assert_eq!(received.len(), 2, "{operation}: one request per page");
    let second = format!("{}{}", received[1].target, received[1].body);
    assert!(
        second.contains(&format!("{token_param}=page-2")),
        "{operation}: the second request asks for page 2: {second}"
    );
}

#[tokio::test]
async fn every_paged_ec2_describe_reads_every_page() {
    let cases = [
        ("DescribeVpcs", "vpcSet", "vpcId"),
        ("DescribeSubnets", "subnetSet", "subnetId"),
        (
            "DescribeInternetGateways",
            "internetGatewaySet",
            "internetGatewayId",
        ),
        ("DescribeNatGateways", "natGatewaySet", "natGatewayId"),
        ("DescribeRouteTables", "routeTableSet", "routeTableId"),
        ("DescribeSecurityGroups", "securityGroupInfo", "groupId"),
        (
            "DescribeNetworkInterfaces",
            "networkInterfaceSet",
            "networkInterfaceId",
        ),
    ];
    for (operation, set, id_field) in cases {
        let server = ScriptedServer::start(two_ec2_pages(operation, set, id_field)).await;
        let ec2 = server.clients().await.ec2;
        let ids: Vec<String> = match operation {
            "DescribeVpcs" => ec2
                .describe_vpcs(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeSubnets" => ec2
                .describe_subnets(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeInternetGateways" => ec2
                .describe_internet_gateways(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeNatGateways" => ec2
                .describe_nat_gateways(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeRouteTables" => ec2
                .describe_route_tables(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeSecurityGroups" => ec2
                .describe_security_groups(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            "DescribeNetworkInterfaces" => ec2
                .describe_network_interfaces(&[])
                .await
                .unwrap()
                .into_iter()
                .map(|x| x.id)
                .collect(),
            other => unreachable!("{other}"),
        };
        assert_eq!(ids, ["id-1", "id-2"], "{operation}");
        assert_followed(&server, "NextToken", operation);
    }
}

#[tokio::test]
async fn list_nodegroups_reads_every_page() {
    let server = ScriptedServer::start(vec![
        (
            200,
            r#"{"nodegroups":["workers-a"],"nextToken":"page-2"}"#.to_owned(),
        ),
        (200, r#"{"nodegroups":["workers-b"]}"#.to_owned()),
    ])
    .await;
    let eks = server.clients().await.eks;
    let groups = eks.list_nodegroups("demo").await.unwrap();
    assert_eq!(groups, ["workers-a", "workers-b"]);
    assert_followed(&server, "nextToken", "ListNodegroups");
}

#[tokio::test]
async fn list_attached_role_policies_reads_every_page() {
    let page = |arn: &str, marker: Option<&str>| {
        let more = marker
            .map(|m| format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"))
            .unwrap_or_else(|| "<IsTruncated>false</IsTruncated>".to_owned());
        format!(
            "<ListAttachedRolePoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAttachedRolePoliciesResult><AttachedPolicies><member><PolicyArn>{arn}</PolicyArn><PolicyName>p</PolicyName></member></AttachedPolicies>{more}</ListAttachedRolePoliciesResult></ListAttachedRolePoliciesResponse>"
        )
    };
    let first = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";
    let second = "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController";
    let server = ScriptedServer::start(vec![
        (200, page(first, Some("page-2"))),
        (200, page(second, None)),
    ])
    .await;
    let iam = server.clients().await.iam;
    let policies = iam.list_attached_role_policies("demo-cluster").await.unwrap();
    assert_eq!(policies, [first, second]);
    assert_followed(&server, "Marker", "ListAttachedRolePolicies");
}

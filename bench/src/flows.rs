//! Synthetic flow sets: `n` distinct flows over up to 16 match shapes (the
//! scale shape the classifier targets are stated in), as ovs-ofctl text so
//! the same set can be fed to `ovs-ofctl add-flows` for comparison.

/// Flows per shape before values would repeat.
pub const MAX_PER_SHAPE: usize = 65_536;

pub const SHAPES: usize = 16;

/// The match (and priority) of flow `i` of a set using `shapes` shapes.
pub fn flow_match(i: usize, shapes: usize) -> String {
    let s = i % shapes;
    let j = i / shapes;
    let (hi, lo) = ((j >> 8) & 0xff, j & 0xff);
    let a = format!("10.{s}.{hi}.{lo}");
    let net = format!("{}.{hi}.{lo}.0/24", 20 + s);
    let mac = format!("02:00:{s:02x}:00:{hi:02x}:{lo:02x}");
    let m = match s {
        0 => format!("ip,nw_dst={a}"),
        1 => format!("ip,nw_src={a}"),
        2 => format!("tcp,nw_dst={a},tp_dst=80"),
        3 => format!("udp,nw_dst={a},tp_dst=53"),
        4 => format!("ip,nw_src={net}"),
        5 => format!("ip,nw_dst={net}"),
        6 => format!("dl_dst={mac}"),
        7 => format!("in_port=1,dl_src={mac}"),
        8 => format!("arp,arp_tpa={a}"),
        // tp_dst=9 (discard) keeps these off real traffic's ports.
        9 => format!("tcp,tp_src={j},tp_dst=9"),
        10 => format!("udp,tp_src={j},tp_dst=9"),
        11 => format!("ip,nw_src={a},nw_dst=12.0.0.1"),
        12 => format!("tcp,nw_src={a},tp_dst=443"),
        13 => format!("ipv6,ipv6_dst=fd00::{s:x}:{hi:x}:{lo:x}"),
        14 => format!("icmp,nw_dst={a}"),
        _ => format!("dl_vlan={},dl_dst={mac}", j % 4094 + 1),
    };
    format!("priority={},{m}", 100 + s)
}

/// Flow `i` in add-flow syntax, in table `i % shapes % tables`.
pub fn flow_text(i: usize, shapes: usize, tables: usize, actions: &str) -> String {
    let table = i % shapes % tables;
    format!("table={table},{} actions={actions}", flow_match(i, shapes))
}

/// Checks that `n` flows fit `shapes` shapes without repeating.
pub fn check_size(n: usize, shapes: usize) -> Result<(), String> {
    if shapes == 0 || shapes > SHAPES {
        return Err(format!("--shapes must be 1..={SHAPES}"));
    }
    if n.div_ceil(shapes) > MAX_PER_SHAPE {
        return Err(format!(
            "{n} flows over {shapes} shapes repeat values: at most {} (use more shapes)",
            MAX_PER_SHAPE * shapes
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::text::{parse_flow, FlowCommand};
    use std::collections::HashSet;

    #[test]
    fn every_shape_parses_and_flows_are_distinct() {
        let mut seen = HashSet::new();
        for i in (0..SHAPES * 300).chain((SHAPES * 65_000)..(SHAPES * 65_536)) {
            let t = flow_text(i, SHAPES, 4, "output:1");
            let fm = parse_flow(&t, FlowCommand::Add).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert!(
                seen.insert((fm.table_id, fm.priority, fm.match_.clone())),
                "{t} repeats"
            );
        }
    }

    #[test]
    fn a_million_flows_need_sixteen_shapes() {
        assert!(check_size(1_000_000, 16).is_ok());
        assert!(check_size(1_000_000, 8).is_err());
        assert!(check_size(10, 0).is_err());
    }
}

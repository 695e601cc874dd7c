# An OpenFlow 1.3 MAC-learning switch for os-ken, behaving as Ryu's
# `simple_switch_13` sample app does (os-ken 2.x and later no longer ship
# the sample apps, and os-ken 1.x does not run with today's eventlet).
# The integration test `osken_simple_switch.rs` runs it through the real
# `osken-manager` against tapflowd.
#
# What it does, as the sample app:
# - on FEATURES_REPLY: a table-miss flow, priority 0, matching everything,
#   actions=CONTROLLER:65535 (the whole packet, no buffering);
# - on PACKET_IN: learn eth_src -> in_port; if eth_dst is known, install
#   priority=1,in_port,eth_src,eth_dst -> output:PORT and send the packet
#   there, else flood it (PACKET_OUT to FLOOD); LLDP is ignored.

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ether_types, ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class SimpleSwitch13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # datapath id -> {mac: port}
        self.learned = {}

    @staticmethod
    def _flow(datapath, priority, match, actions, buffer_id=None):
        ofp = datapath.ofproto
        parser = datapath.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        kwargs = dict(datapath=datapath, priority=priority, match=match, instructions=inst)
        if buffer_id is not None:
            kwargs["buffer_id"] = buffer_id
        datapath.send_msg(parser.OFPFlowMod(**kwargs))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        to_controller = parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)
        self._flow(dp, 0, parser.OFPMatch(), [to_controller])
        self.logger.info("switch %016x: table-miss flow installed", dp.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        in_port = msg.match["in_port"]

        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return

        ports = self.learned.setdefault(dp.id, {})
        if ports.get(eth.src) != in_port:
            self.logger.info("switch %016x: %s is on port %s", dp.id, eth.src, in_port)
        ports[eth.src] = in_port
        out_port = ports.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]

        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst, eth_src=eth.src)
            if msg.buffer_id != ofp.OFP_NO_BUFFER:
                # The switch sends the buffered packet along the new flow.
                self._flow(dp, 1, match, actions, msg.buffer_id)
                return
            self._flow(dp, 1, match, actions)

        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(
            parser.OFPPacketOut(
                datapath=dp, buffer_id=msg.buffer_id, in_port=in_port, actions=actions, data=data
            )
        )

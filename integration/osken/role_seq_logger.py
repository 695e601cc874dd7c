# An os-ken app for the integration test `roles_osken.rs`: it takes an
# OpenFlow 1.3 controller role, can be promoted to master later, and logs,
# in the order they arrive on its connection, every ROLE_REPLY and every
# PACKET_IN carrying a sequence marker. Two osken-managers run it against
# one tapflowd; the test reads both logs.
#
# Environment (osken-manager passes no arguments to apps):
#   TF_ROLE_LOG      file to append log lines to (required)
#   TF_ROLE          role to ask for once the switch is up: master, slave, equal
#   TF_GEN           generation_id of that request
#   TF_PROMOTE_FILE  when this file appears, ask for MASTER ...
#   TF_PROMOTE_GEN   ... with this generation_id
#
# Every 50 ms it also asks for role NOCHANGE, so that a demotion (OF1.3 has
# no ROLE_STATUS) shows in its log at the point of its connection's stream
# where it took effect.
#
# Log lines:
#   ROLE <role> <generation_id>   a ROLE_REPLY (role as a number, OFPCR_ROLE_*)
#   PIN <seq>                     a PACKET_IN whose data holds "TFSEQ<8 digits>"
#   PIN-OTHER                     any other PACKET_IN
#   ERROR <type> <code>           an OFPT_ERROR from the switch
#   PROMOTE-SENT                  the MASTER request after TF_PROMOTE_FILE appeared

import os
import re

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

SEQ = re.compile(rb"TFSEQ(\d{8})")
ROLES = {
    "master": ofproto_v1_3.OFPCR_ROLE_MASTER,
    "slave": ofproto_v1_3.OFPCR_ROLE_SLAVE,
    "equal": ofproto_v1_3.OFPCR_ROLE_EQUAL,
}


class RoleSeqLogger(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = open(os.environ["TF_ROLE_LOG"], "a", buffering=1)
        self.role = ROLES[os.environ.get("TF_ROLE", "equal")]
        self.gen = int(os.environ.get("TF_GEN", "0"))
        self.promote_file = os.environ.get("TF_PROMOTE_FILE")
        self.promote_gen = int(os.environ.get("TF_PROMOTE_GEN", "0"))
        self.datapath = None
        hub.spawn(self._poll)

    def _write(self, line):
        self.log.write(line + "\n")

    def _role_request(self, role, gen):
        dp = self.datapath
        dp.send_msg(dp.ofproto_parser.OFPRoleRequest(dp, role, gen))

    def _poll(self):
        promoted = False
        while True:
            hub.sleep(0.05)
            if self.datapath is None:
                continue
            if self.promote_file and not promoted and os.path.exists(self.promote_file):
                promoted = True
                self._role_request(ofproto_v1_3.OFPCR_ROLE_MASTER, self.promote_gen)
                self._write("PROMOTE-SENT")
            self._role_request(ofproto_v1_3.OFPCR_ROLE_NOCHANGE, 0)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        self.datapath = ev.msg.datapath
        self._role_request(self.role, self.gen)

    @set_ev_cls(ofp_event.EventOFPRoleReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_role_reply(self, ev):
        self._write("ROLE %d %d" % (ev.msg.role, ev.msg.generation_id))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        m = SEQ.search(bytes(ev.msg.data))
        self._write("PIN %d" % int(m.group(1)) if m else "PIN-OTHER")

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_error(self, ev):
        self._write("ERROR %d %d" % (ev.msg.type, ev.msg.code))

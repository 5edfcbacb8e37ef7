//! Media relays: a Mediation Server without media bypass forwards (and, when the legs share
//! no codec, transcodes) each packet between its two legs after a processing delay.

use super::*;

impl MediaEngine {
    /// The session on the far side of relay `r`, entered from side A (`from_a`) or B.
    pub(super) fn far_session(&self, r: u32, from_a: bool) -> Option<u32> {
        let relay = self.relays.get(r as usize)?.state.as_ref()?;
        if relay.a_to_b.is_some() || relay.b_to_a.is_some() {
            return None; // transcoded: new timestamps, no shared clock
        }
        let far = if from_a {
            relay.spec.b_remote?
        } else {
            relay.spec.a_remote?
        };
        match self.by_addr.get(&far)? {
            Target::Session { slot, .. } => Some(*slot),
            _ => None,
        }
    }

    /// Opens a relay between two legs.
    pub fn open_relay(&mut self, now: SimTime, spec: RelaySpec) -> Result<(), String> {
        let mut rng = self.rngs.indexed_stream("media", "relay", spec.tag.0);
        let (a_to_b, b_to_a) = match spec.transcode {
            Some((a, b)) if a.payload_type != b.payload_type => {
                let mut ab = TranscoderConfig::new(a, b);
                ab.processing_delay = spec.delay;
                let mut ba = TranscoderConfig::new(b, a);
                ba.processing_delay = spec.delay;
                (
                    Some(Transcoder::new(ab, &mut rng).map_err(|e| e.to_string())?),
                    Some(Transcoder::new(ba, &mut rng).map_err(|e| e.to_string())?),
                )
            }
            _ => (None, None),
        };
        let slot = match self.free_relays.pop() {
            Some(s) => s,
            None => {
                self.relays.push(RelaySlot {
                    generation: 0,
                    state: None,
                });
                (self.relays.len() - 1) as u32
            }
        };
        let (a_local, b_local) = (spec.a_local, spec.b_local);
        let entry = &mut self.relays[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.state = Some(OpenRelay {
            spec,
            a_to_b,
            b_to_a,
            timer: None,
            relayed_packets: 0,
        });
        self.bind(a_local, |channel| Target::RelayA { slot, channel });
        self.bind(b_local, |channel| Target::RelayB { slot, channel });
        self.open_relays += 1;
        self.peak_relays = self.peak_relays.max(self.open_relays);
        let _ = now;
        // Sessions already open on either side can now see each other's clocks.
        for addr in [a_local, b_local] {
            let _ = addr;
        }
        self.relink_around_relay(slot);
        Ok(())
    }

    pub(super) fn relink_around_relay(&mut self, r: u32) {
        let Some(relay) = self.relays[r as usize].state.as_ref() else {
            return;
        };
        let remotes = [relay.spec.a_remote, relay.spec.b_remote];
        for remote in remotes.into_iter().flatten() {
            if let Some(Target::Session { slot, .. }) = self.by_addr.get(&remote).copied() {
                self.link_clocks(slot);
            }
        }
    }

    /// Sets the far end of one side of a relay (learnt later from SDP).
    pub fn set_relay_remote(&mut self, local: SocketAddrV4, remote: SocketAddrV4) {
        let target = self.by_addr.get(&local).copied();
        let r = match target {
            Some(Target::RelayA { slot, .. }) => {
                if let Some(relay) = self.relays[slot as usize].state.as_mut() {
                    relay.spec.a_remote = Some(remote);
                }
                slot
            }
            Some(Target::RelayB { slot, .. }) => {
                if let Some(relay) = self.relays[slot as usize].state.as_mut() {
                    relay.spec.b_remote = Some(remote);
                }
                slot
            }
            _ => return,
        };
        self.relink_around_relay(r);
    }

    /// Closes the relay with side A (or B) at `local`.
    pub fn close_relay(&mut self, local: SocketAddrV4) {
        let slot = match self.by_addr.get(&local).copied() {
            Some(Target::RelayA { slot, .. } | Target::RelayB { slot, .. }) => slot,
            _ => return,
        };
        if let Some(relay) = self.relays[slot as usize].state.take() {
            self.unbind(relay.spec.a_local);
            self.unbind(relay.spec.b_local);
            self.free_relays.push(slot);
            self.open_relays -= 1;
            self.relayed_total += relay.relayed_packets;
        }
    }

    pub(super) fn relay(
        &mut self,
        now: SimTime,
        slot: u32,
        from_a: bool,
        channel: Channel,
        src: SocketAddrV4,
        payload: &[u8],
    ) {
        let generation = self.relays[slot as usize].generation;
        let Some(relay) = self.relays[slot as usize].state.as_mut() else {
            return;
        };
        let rtp_src = match channel {
            Channel::Rtp => src,
            Channel::Rtcp => SocketAddrV4::new(*src.ip(), src.port().wrapping_sub(1)),
        };
        // Symmetric RTP: learn a missing far end from the first packet.
        let (out_local, out_remote) = if from_a {
            relay.spec.a_remote.get_or_insert(rtp_src);
            (relay.spec.b_local, relay.spec.b_remote)
        } else {
            relay.spec.b_remote.get_or_insert(rtp_src);
            (relay.spec.a_local, relay.spec.a_remote)
        };
        let Some(out_remote) = out_remote else { return };
        let shift = |a: SocketAddrV4| match channel {
            Channel::Rtp => a,
            Channel::Rtcp => SocketAddrV4::new(*a.ip(), a.port().wrapping_add(1)),
        };
        let transcoder = if from_a {
            relay.a_to_b.as_mut()
        } else {
            relay.b_to_a.as_mut()
        };
        match (transcoder, channel) {
            (Some(t), Channel::Rtp) => {
                t.handle_rtp(now, payload);
                self.dirty.push(MediaKey {
                    slot,
                    generation,
                    relay: true,
                });
            }
            (Some(_), Channel::Rtcp) => {
                // A transcoding relay terminates RTCP (the two legs have different SSRCs).
            }
            (None, _) => {
                relay.relayed_packets += 1;
                let packet = Packet::new(
                    shift(out_local),
                    shift(out_remote),
                    Bytes::copy_from_slice(payload),
                )
                .with_dscp(MEDIA_DSCP);
                self.delayed.push((now + relay.spec.delay, packet));
            }
        }
    }
}

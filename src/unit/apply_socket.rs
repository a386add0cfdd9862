//! The keys of `[Socket]` (systemd.socket(5)) and `[Timer]` (systemd.timer(5)): listening
//! addresses, socket options and timer triggers (`OnCalendar=` read by [`super::calendar`]).
//! Parsing, and the refusals of a socket unit at load (socket_verify()): the engine opens the
//! sockets (`manager/engine/socket.rs`) and arms the timers (`manager/engine/timer.rs`).

use std::path::PathBuf;

use super::apply::{Applier, Outcome, bool_of, opt, parse_u32, why};
use super::calendar::CalendarSpec;
use super::model::{BindIpv6Only, Listen, ListenAddress, ListenKind, SocketSection, TimerSection};
use super::name::UnitName;
use super::value;

impl Applier<'_> {
    pub(super) fn socket_key(&mut self, s: &mut SocketSection, key: &str, v: &str) -> Outcome {
        let kind = match key {
            "ListenStream" => Some(ListenKind::Stream),
            "ListenDatagram" => Some(ListenKind::Datagram),
            "ListenSequentialPacket" => Some(ListenKind::SequentialPacket),
            "ListenFIFO" => Some(ListenKind::Fifo),
            _ => None,
        };
        if let Some(kind) = kind {
            if v.is_empty() {
                s.listen.clear();
                return Ok(());
            }
            let Some(text) = self.x(v) else { return Ok(()) };
            let address = if kind == ListenKind::Fifo {
                if !text.starts_with('/') {
                    return Err(format!("{text:?} is not an absolute path"));
                }
                ListenAddress::Path(PathBuf::from(text))
            } else {
                parse_listen_address(&text)?
            };
            s.listen.push(Listen { kind, address });
            return Ok(());
        }
        match key {
            "Accept" => s.accept = bool_of(v)?,
            "RemoveOnStop" => s.remove_on_stop = bool_of(v)?,
            "ReusePort" => s.reuse_port = bool_of(v)?,
            "KeepAlive" => s.keep_alive = bool_of(v)?,
            // config_parse_socket_bind(): the three words, or a boolean (yes: ipv6-only).
            "BindIPv6Only" => {
                s.bind_ipv6_only = match v {
                    "" | "default" => BindIpv6Only::Default,
                    "both" => BindIpv6Only::Both,
                    "ipv6-only" => BindIpv6Only::Ipv6Only,
                    _ => {
                        if bool_of(v)? {
                            BindIpv6Only::Ipv6Only
                        } else {
                            BindIpv6Only::Both
                        }
                    }
                }
            }
            // An absolute path each, specifiers expanded; empty resets the list.
            "Symlinks" => {
                if v.is_empty() {
                    s.symlinks.clear();
                }
                for word in v.split_whitespace() {
                    let Some(path) = self.x(word) else { continue };
                    if !path.starts_with('/') {
                        return Err(format!("{path:?} is not an absolute path"));
                    }
                    s.symlinks.push(PathBuf::from(path));
                }
            }
            "PassCredentials" => s.pass_credentials = bool_of(v)?,
            "SocketMode" => s.socket_mode = opt(v, value::parse_mode)?,
            "DirectoryMode" => s.directory_mode = opt(v, value::parse_mode)?,
            "SocketUser" => s.socket_user = self.text(v),
            "SocketGroup" => s.socket_group = self.text(v),
            "Backlog" => s.backlog = opt(v, parse_u32)?,
            "MaxConnections" => s.max_connections = opt(v, parse_u32)?,
            "MaxConnectionsPerSource" => s.max_connections_per_source = opt(v, parse_u32)?,
            "TriggerLimitIntervalSec" => s.trigger_limit_interval = opt(v, value::parse_timespan)?,
            "TriggerLimitBurst" => s.trigger_limit_burst = opt(v, parse_u32)?,
            "ReceiveBuffer" => s.receive_buffer = opt(v, value::parse_size)?,
            "SendBuffer" => s.send_buffer = opt(v, value::parse_size)?,
            "Service" => {
                s.service = match self.text(v) {
                    None => None,
                    Some(n) => {
                        let n = UnitName::parse(&n).map_err(|e| e.to_string())?;
                        if n.unit_type() != "service" || n.is_template() {
                            return Err(format!("{n} is not a service unit name"));
                        }
                        Some(n)
                    }
                };
            }
            "FileDescriptorName" => {
                s.file_descriptor_name = self.text(v);
                if let Some(n) = &s.file_descriptor_name
                    && (n.len() > 255 || n.contains(':') || n.chars().any(|c| c.is_control()))
                {
                    return Err(format!("{n:?} is not a valid file descriptor name"));
                }
            }
            "ExecStartPre" => self.exec_line(v, &mut s.exec_start_pre)?,
            "ExecStartPost" => self.exec_line(v, &mut s.exec_start_post)?,
            "ExecStopPre" => self.exec_line(v, &mut s.exec_stop_pre)?,
            "ExecStopPost" => self.exec_line(v, &mut s.exec_stop_post)?,
            "TimeoutSec" => s.timeout = opt(v, value::parse_timespan)?,
            _ => {
                if !self.kill_key(&mut s.kill, key, v)? {
                    self.exec_key(&mut s.exec, key, v)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn timer_key(&mut self, t: &mut TimerSection, key: &str, v: &str) -> Outcome {
        let monotonic = match key {
            "OnActiveSec" => Some(&mut t.on_active),
            "OnBootSec" => Some(&mut t.on_boot),
            "OnStartupSec" => Some(&mut t.on_startup),
            "OnUnitActiveSec" => Some(&mut t.on_unit_active),
            "OnUnitInactiveSec" => Some(&mut t.on_unit_inactive),
            _ => None,
        };
        if let Some(list) = monotonic {
            if v.is_empty() {
                clear_timer_values(t);
            } else {
                list.push(value::parse_timespan(v).map_err(why)?);
            }
            return Ok(());
        }
        match key {
            "OnCalendar" => {
                if v.is_empty() {
                    clear_timer_values(t);
                } else if let Some(c) = self.x(v) {
                    // As systemd, the time zones the event names are read now (and the local
                    // zone, once per process).
                    t.on_calendar.push(CalendarSpec::parse(&c).map_err(|e| {
                        // A zone file that cannot be read says why in its sources.
                        let mut text = e.to_string();
                        let mut cause = std::error::Error::source(&e);
                        while let Some(c) = cause {
                            text = format!("{text}: {c}");
                            cause = c.source();
                        }
                        text
                    })?);
                }
            }
            "RandomizedDelaySec" => t.randomized_delay = opt(v, value::parse_timespan)?,
            "AccuracySec" => t.accuracy = opt(v, value::parse_timespan)?,
            "FixedRandomDelay" => t.fixed_random_delay = bool_of(v)?,
            "Persistent" => t.persistent = bool_of(v)?,
            "RemainAfterElapse" => t.remain_after_elapse = opt(v, value::parse_bool)?,
            "Unit" => t.unit = self.trigger_unit(v, "timer", "a timer")?,
            _ => {}
        }
        Ok(())
    }
}

/// socket_verify()'s refusals of a socket unit, each said through `fail`.
pub(super) fn check_socket(s: &SocketSection, fail: &mut impl FnMut(&str)) {
    if s.listen.is_empty() && s.unsupported_listen.is_empty() {
        fail(
            "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...). Refusing.",
        );
    }
    if s.accept
        && s.listen
            .iter()
            .any(|l| l.kind == ListenKind::Fifo || l.kind == ListenKind::Datagram)
    {
        fail("Unit configured for accepting sockets, but sockets are non-accepting. Refusing.");
    }
    if s.accept && s.service.is_some() {
        fail("Explicit service configuration for accepting socket units not supported. Refusing.");
    }
    if !s.symlinks.is_empty() && s.symlink_target().is_none() {
        fail("Unit has symlinks set but none or more than one node in the file system. Refusing.");
    }
}

/// An empty On*= resets every trigger of the timer (config_parse_timer).
fn clear_timer_values(t: &mut TimerSection) {
    t.on_active.clear();
    t.on_boot.clear();
    t.on_startup.clear();
    t.on_unit_active.clear();
    t.on_unit_inactive.clear();
    t.on_calendar.clear();
}

/// A ListenStream=/ListenDatagram=/ListenSequentialPacket= address (systemd.socket(5)).
fn parse_listen_address(text: &str) -> Result<ListenAddress, String> {
    if text.starts_with('/') {
        return Ok(ListenAddress::Path(PathBuf::from(text)));
    }
    if let Some(name) = text.strip_prefix('@') {
        return Ok(ListenAddress::Abstract(name.to_owned()));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u16>() {
            Ok(port) if port > 0 => Ok(ListenAddress::Port(port)),
            _ => Err(format!("{text:?} is not a port number from 1 to 65535")),
        };
    }
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(ListenAddress::Inet(addr));
    }
    if text.starts_with("vsock:") || text.contains('%') {
        return Ok(ListenAddress::Other(text.to_owned()));
    }
    Err(format!(
        "{text:?} is not a socket address (a port, ADDRESS:PORT, [IPv6]:PORT, /path or @abstract)"
    ))
}

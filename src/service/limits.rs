//! Limit*= as setrlimit calls for a child: which resource each name is, and hard limits above
//! the container's clamped (with a warning) when bosun lacks CAP_SYS_RESOURCE. Planning only,
//! in the parent; the child's setrlimit calls are sys.rs's. Moved out of spawn.rs unchanged.

use nix::sys::resource::{Resource, getrlimit};

use crate::unit::model::{ExecContext, LimitValue};

/// The resource named by a Limit*= suffix.
fn resource(name: &str) -> Option<Resource> {
    Some(match name {
        "CPU" => Resource::RLIMIT_CPU,
        "FSIZE" => Resource::RLIMIT_FSIZE,
        "DATA" => Resource::RLIMIT_DATA,
        "STACK" => Resource::RLIMIT_STACK,
        "CORE" => Resource::RLIMIT_CORE,
        "RSS" => Resource::RLIMIT_RSS,
        "NOFILE" => Resource::RLIMIT_NOFILE,
        "AS" => Resource::RLIMIT_AS,
        "NPROC" => Resource::RLIMIT_NPROC,
        "MEMLOCK" => Resource::RLIMIT_MEMLOCK,
        "LOCKS" => Resource::RLIMIT_LOCKS,
        "SIGPENDING" => Resource::RLIMIT_SIGPENDING,
        "MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
        "NICE" => Resource::RLIMIT_NICE,
        "RTPRIO" => Resource::RLIMIT_RTPRIO,
        "RTTIME" => Resource::RLIMIT_RTTIME,
        _ => return None,
    })
}

/// The setrlimit calls for Limit*=, with hard limits above ours clamped (and said so) when we
/// lack CAP_SYS_RESOURCE to raise them.
pub(super) fn limits(
    exec: &ExecContext,
    can_raise: bool,
    warnings: &mut Vec<String>,
) -> Vec<(Resource, u64, u64)> {
    let value = |v: LimitValue| match v {
        LimitValue::Value(n) => n,
        LimitValue::Infinity => libc::RLIM_INFINITY,
    };
    let mut out = Vec::new();
    for (name, limit) in &exec.limits {
        let Some(res) = resource(name) else { continue };
        let (mut soft, mut hard) = (value(limit.soft), value(limit.hard));
        if let Ok((_, current_hard)) = getrlimit(res)
            && hard > current_hard
            && !can_raise
        {
            warnings.push(format!(
                "Limit{name}={}: above this container's hard limit {current_hard}, which only \
                 CAP_SYS_RESOURCE may raise; using {current_hard}",
                show_limit(hard)
            ));
            hard = current_hard;
            soft = soft.min(hard);
        }
        out.push((res, soft, hard));
    }
    out
}

fn show_limit(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "infinity".to_owned()
    } else {
        v.to_string()
    }
}

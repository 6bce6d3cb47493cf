//! A digest as a mail: a Chinese subject that says how much is overdue, and a body — plain text
//! and HTML alternatives — listing each milestone with its due date, how late or how close it
//! is, its escalation level, what the department is to do and a link to the project.

use std::fmt::Write as _;
use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::digest::{Digest, DigestItem, MailContext, message_id, milestone_thread_id};
use super::mail::MailError;
use crate::domain::{NoticeKind, local_date};

/// Renders a digest as a multipart/alternative message from `ctx.from` to the digest's `to`
/// and `cc`, dated `ctx.now`, with a `Message-ID` derived from its run key and threaded on its
/// milestones. The same digest and context always give the same bytes. Fails (permanently) on an empty digest or an address that does not parse.
pub fn render(digest: &Digest, ctx: &MailContext) -> Result<Message, MailError> {
    if digest.items.is_empty() {
        return Err(MailError::permanent("a digest without items is not mailed"));
    }
    let mailbox = |s: &str| {
        s.parse::<Mailbox>()
            .map_err(|e| MailError::permanent(format!("{s:?} is not a mail address: {e}")))
    };
    let mut builder = Message::builder()
        .from(mailbox(&ctx.from)?)
        .subject(subject(digest))
        .date(SystemTime::from(ctx.now))
        .message_id(Some(message_id(&digest.run_key, &ctx.public_url)))
        .raw_header(raw("Auto-Submitted", "auto-generated"))
        .raw_header(raw("X-Auto-Response-Suppress", "All"));
    for to in &digest.to {
        builder = builder.to(mailbox(to)?);
    }
    for cc in &digest.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    let threads: Vec<String> = digest
        .milestones()
        .into_iter()
        .map(|m| milestone_thread_id(m, &ctx.public_url))
        .collect();
    if let [thread] = threads.as_slice() {
        builder = builder.in_reply_to(thread.clone());
    }
    builder = builder.references(threads.join(" "));
    // A boundary from the run key (`=_` never occurs in base64 or quoted-printable text) makes
    // the whole message a function of digest and context: a re-render is byte-identical.
    let boundary = format!(
        "=_duban_{}",
        &blake3::hash(digest.run_key.as_bytes()).to_hex()[..24]
    );
    let body = MultiPart::alternative()
        .boundary(boundary)
        .singlepart(SinglePart::plain(text(digest, ctx)))
        .singlepart(SinglePart::html(html(digest, ctx)));
    builder
        .multipart(body)
        .map_err(|e| MailError::permanent(format!("cannot build the message: {e}")))
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.into())
}

fn count(digest: &Digest, kind: NoticeKind) -> usize {
    digest.items.iter().filter(|i| i.kind == kind).count()
}

fn level_name(level: u8) -> String {
    match level {
        1 => "一级".into(),
        2 => "二级".into(),
        3 => "三级".into(),
        n => format!("{n}级"),
    }
}

/// `【督办】山西省发展和改革委员会：2 项节点逾期、1 项节点临期（最高三级督办）`.
pub fn subject(digest: &Digest) -> String {
    let (overdue, soon) = (
        count(digest, NoticeKind::Overdue),
        count(digest, NoticeKind::DueSoon),
    );
    let name = &digest.department_name;
    match (overdue, soon) {
        (0, s) => format!("【督办提醒】{name}：{s} 项节点临期"),
        (o, s) => {
            let mut levels = digest.items.iter().map(|i| i.level);
            let first = levels.next();
            let mixed = levels.any(|l| Some(l) != first);
            let level = format!(
                "{}{}督办",
                if mixed { "最高" } else { "" },
                level_name(digest.level)
            );
            if s == 0 {
                format!("【督办】{name}：{o} 项节点逾期（{level}）")
            } else {
                format!("【督办】{name}：{o} 项节点逾期、{s} 项节点临期（{level}）")
            }
        }
    }
}

fn link(ctx: &MailContext, item: &DigestItem) -> String {
    format!(
        "{}/api/v1/projects/{}",
        ctx.public_url.trim_end_matches('/'),
        item.project_id
    )
}

/// `逾期 12 个工作日` / `剩余 3 个工作日` / `今日到期`.
fn timing(item: &DigestItem) -> String {
    match (item.kind, item.working_days_left) {
        (NoticeKind::Overdue, _) => format!("逾期 {} 个工作日", item.working_days_overdue),
        (NoticeKind::DueSoon, Some(0)) => "今日到期".into(),
        (NoticeKind::DueSoon, Some(n)) => format!("剩余 {n} 个工作日"),
        (NoticeKind::DueSoon, None) => "即将到期".into(),
    }
}

/// `【逾期】主体厂房封顶（第 2 次催办）`.
fn heading(item: &DigestItem) -> String {
    let (tag, again) = match item.kind {
        NoticeKind::Overdue => ("逾期", "催办"),
        NoticeKind::DueSoon => ("临期", "提醒"),
    };
    let mut h = format!("【{tag}】{}", item.milestone_title);
    if item.repeat > 0 {
        let _ = write!(h, "（第 {} 次{again}）", item.repeat + 1);
    }
    h
}

fn action(item: &DigestItem) -> &'static str {
    match item.kind {
        NoticeKind::Overdue => {
            "请立即在系统中报送进展；确需调整的，提出延期申请（逾期后提出的仍计为逾期）；已完成的，提交办结申请。"
        }
        NoticeKind::DueSoon => {
            "请在截止日期前在系统中报送进展；预计不能按期完成的，及时提出延期申请；已完成的，提交办结申请。"
        }
    }
}

fn intro(digest: &Digest, ctx: &MailContext) -> String {
    let today = local_date(ctx.now).format("%Y年%-m月%-d日");
    let (overdue, soon) = (
        count(digest, NoticeKind::Overdue),
        count(digest, NoticeKind::DueSoon),
    );
    let mut summary = Vec::new();
    if overdue > 0 {
        summary.push(format!("{overdue} 项逾期"));
    }
    if soon > 0 {
        summary.push(format!("{soon} 项临近截止日期"));
    }
    format!(
        "截至 {today}，贵单位负责的重点项目节点中，{}，请按要求办理。",
        summary.join("、")
    )
}

const LEVELS: &str =
    "督办级别：一级通知责任单位；二级同时抄送单位分管领导；三级同时抄送领导小组办公室。";
const FOOTER: &str = "本邮件由督办系统自动发送，请勿直接回复；办理请登录系统。";

fn text(digest: &Digest, ctx: &MailContext) -> String {
    let mut t = format!("{}：\n\n{}\n", digest.department_name, intro(digest, ctx));
    for (n, item) in digest.ordered_items().into_iter().enumerate() {
        let _ = write!(
            t,
            "\n{}. {}\n   所属项目：{}\n   截止日期：{}\n   时限：{}\n   督办级别：{}\n   办理要求：{}\n   详情：{}\n",
            n + 1,
            heading(item),
            item.project_name,
            item.due_date.format("%Y-%m-%d"),
            timing(item),
            level_name(item.level),
            action(item),
            link(ctx, item),
        );
    }
    let _ = write!(t, "\n{LEVELS}\n{FOOTER}\n");
    t
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(digest: &Digest, ctx: &MailContext) -> String {
    const TD: &str = r#"style="padding:2px 12px 2px 0;color:#555;white-space:nowrap""#;
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.5\">\n<p>{}：</p>\n<p>{}</p>\n<ol>\n",
        escape(&subject(digest)),
        escape(&digest.department_name),
        escape(&intro(digest, ctx)),
    );
    for item in digest.ordered_items() {
        let colour = match item.kind {
            NoticeKind::Overdue => "#b00020",
            NoticeKind::DueSoon => "#a05a00",
        };
        let url = escape(&link(ctx, item));
        let _ = write!(
            h,
            "<li style=\"margin-bottom:1em\"><strong style=\"color:{colour}\">{}</strong>\n<table>\n\
             <tr><td {TD}>所属项目</td><td>{}</td></tr>\n\
             <tr><td {TD}>截止日期</td><td>{}</td></tr>\n\
             <tr><td {TD}>时限</td><td>{}</td></tr>\n\
             <tr><td {TD}>督办级别</td><td>{}</td></tr>\n\
             <tr><td {TD}>办理要求</td><td>{}</td></tr>\n\
             <tr><td {TD}>详情</td><td><a href=\"{url}\">{url}</a></td></tr>\n</table></li>\n",
            escape(&heading(item)),
            escape(&item.project_name),
            item.due_date.format("%Y-%m-%d"),
            escape(&timing(item)),
            escape(&level_name(item.level)),
            escape(action(item)),
        );
    }
    let _ = write!(
        h,
        "</ol>\n<p style=\"color:#555\">{}<br>{}</p>\n</body></html>\n",
        escape(LEVELS),
        escape(FOOTER)
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}

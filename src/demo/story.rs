//! The scripted history the demo plays, as data: who does what, on which of the plan's
//! projects, on which day (Asia/Shanghai). Three projects carry it, one per traffic light as
//! of 2018-06-15:
//!
//! - 太原轨道交通装备制造基地 — green: signed, reported, a completion claim returned
//!   (退办重办) and claimed again, accepted; assessed for 2017; on pace since.
//! - 大同通用航空产业园 — yellow: an extension asked for and approved, and still about 20
//!   points behind the progress expected to date (序时进度).
//! - 潞安集团180万吨/年煤基液体产品项目 — red: an on-site inspection found two problems; the
//!   minor one was rectified and verified, the high-severity one is past its deadline.
//!
//! Every other project of the plan has no history: its 2016 and 2017 milestones stand
//! overdue, so it shows red with the lateness the log supports.

/// Who acts.
#[derive(Clone, Copy, Debug)]
pub enum Who {
    /// 领导小组办公室.
    Office,
    /// 督查组.
    Inspector,
    /// A department, by its code in the directory.
    Dept(&'static str),
}

/// One step of the story.
pub struct Step {
    /// `YYYY-MM-DD HH:MM`, Asia/Shanghai.
    pub at: &'static str,
    pub who: Who,
    /// The project's key in the plan file.
    pub project: &'static str,
    pub act: Act,
}

/// What a step does; milestone and target keys are the plan file's.
pub enum Act {
    Sign,
    Report {
        milestone: &'static str,
        percent: u8,
        narrative: &'static str,
        /// A target's key and the value reached.
        actual: Option<(&'static str, f64)>,
    },
    Claim {
        milestone: &'static str,
        narrative: &'static str,
    },
    Accept {
        milestone: &'static str,
    },
    Return {
        milestone: &'static str,
        reason: &'static str,
    },
    RequestExtension {
        milestone: &'static str,
        to: &'static str,
        reason: &'static str,
    },
    DecideExtension {
        milestone: &'static str,
        approve: bool,
        reason: &'static str,
    },
    Inspect {
        summary: &'static str,
        findings: &'static [Finding],
    },
    OrderRectification {
        key: &'static str,
        finding: &'static str,
        department: &'static str,
        deadline: &'static str,
        instructions: &'static str,
    },
    ReportRectification {
        key: &'static str,
        narrative: &'static str,
    },
    VerifyRectification {
        key: &'static str,
    },
    Assess {
        period: &'static str,
        grade: &'static str,
        breakdown: &'static [(&'static str, f64)],
    },
    RateConfidence {
        rating: &'static str,
        assessor: &'static str,
        comment: &'static str,
    },
}

pub struct Finding {
    pub key: &'static str,
    /// low, medium or high.
    pub severity: &'static str,
    pub description: &'static str,
    pub milestone: Option<&'static str>,
}

/// When the office imports the plan.
pub const IMPORTED_AT: &str = "2016-03-01 09:00";

pub const GREEN: &str = "taiyuan-rail-transit-base";
pub const YELLOW: &str = "datong-general-aviation-park";
pub const RED: &str = "luan-coal-liquids-1800kt";

use Act::*;
use Who::*;

const fn step(at: &'static str, who: Who, project: &'static str, act: Act) -> Step {
    Step {
        at,
        who,
        project,
        act,
    }
}

/// The story, in time order. Kept as a table, one step to a line or a few.
#[rustfmt::skip]
pub const STORY: &[Step] = &[
    step("2016-03-08 10:00", Dept("TY-GOV"), GREEN, Sign),
    step("2016-03-09 10:00", Dept("SXEIC"), GREEN, Sign),
    step("2016-03-10 10:00", Dept("SXDRC"), GREEN, Sign),
    step("2016-03-14 10:00", Dept("DT-GOV"), YELLOW, Sign),
    step("2016-03-15 10:00", Dept("SXDRC"), RED, Sign),
    step("2016-03-16 10:00", Dept("SXEPD"), RED, Sign),
    step("2016-03-17 10:00", Dept("CZ-GOV"), RED, Sign),
    step("2016-09-26 10:00", Dept("TY-GOV"), GREEN, Report {
        milestone: "plan", percent: 70, actual: None,
        narrative: "基地建设实施方案已形成征求意见稿，年度目标分解到园区和骨干企业",
    }),
    step("2016-12-15 10:00", Dept("TY-GOV"), GREEN, Claim {
        milestone: "plan",
        narrative: "《太原轨道交通装备制造基地建设实施方案》已印发，年度目标任务已分解",
    }),
    step("2016-12-19 10:00", Dept("SXDRC"), RED, Claim {
        milestone: "prep", narrative: "项目核准批复和环评批复均已取得",
    }),
    step("2016-12-22 15:00", Inspector, GREEN, Accept { milestone: "plan" }),
    step("2016-12-23 15:00", Inspector, RED, Accept { milestone: "prep" }),
    step("2016-12-26 10:00", Dept("DT-GOV"), YELLOW, Claim {
        milestone: "prep", narrative: "立项批复、用地预审和环评批复已取得",
    }),
    step("2016-12-30 15:00", Inspector, YELLOW, Accept { milestone: "prep" }),
    step("2017-06-20 10:00", Dept("SXDRC"), RED, Claim {
        milestone: "start", narrative: "费托合成主装置于6月18日开工建设",
    }),
    step("2017-06-27 15:00", Inspector, RED, Accept { milestone: "start" }),
    step("2017-06-28 10:00", Dept("DT-GOV"), YELLOW, Claim {
        milestone: "start", narrative: "产业园一期跑道和机库工程开工",
    }),
    step("2017-06-30 10:00", Dept("SXEIC"), GREEN, Report {
        milestone: "carrier", percent: 55, actual: None,
        narrative: "铁路装备工业园二期厂房主体完工，7个重点项目已落地",
    }),
    step("2017-07-05 15:00", Inspector, YELLOW, Accept { milestone: "start" }),
    step("2017-12-20 10:00", Dept("TY-GOV"), GREEN, Claim {
        milestone: "carrier", narrative: "三个园区载体建设完成，12个重点项目落地",
    }),
    step("2017-12-27 15:00", Inspector, GREEN, Return {
        milestone: "carrier",
        reason: "重点项目落地清单缺少用地批复和投资到位凭证，无法核实；请补齐证明材料后重新申请办结",
    }),
    step("2018-01-12 10:00", Dept("TY-GOV"), GREEN, Claim {
        milestone: "carrier",
        narrative: "已补齐12个项目的用地批复和投资到位凭证（见附件清单），重新申请办结",
    }),
    step("2018-01-19 15:00", Inspector, GREEN, Accept { milestone: "carrier" }),
    step("2018-03-01 10:00", Dept("SXDRC"), RED, Report {
        milestone: "built", percent: 58, actual: None,
        narrative: "费托合成装置安装完成过半，空分装置进入调试",
    }),
    step("2018-03-01 11:00", Dept("SXDRC"), RED, Report {
        milestone: "goal", percent: 45, actual: None,
        narrative: "总体进度按计划推进，配套油品加工装置完成基础施工",
    }),
    step("2018-03-05 10:00", Office, GREEN, Assess {
        period: "2017", grade: "良好",
        breakdown: &[("基础分", 100.0), ("办结申请被退回一次（退办重办）", -2.0)],
    }),
    step("2018-03-20 16:00", Inspector, RED, Inspect {
        summary: "现场督查：主体装置进度与报送基本相符；环保设施明显滞后，投资数据与台账不一致",
        findings: &[
            Finding {
                key: "luan-three-simultaneities", severity: "high", milestone: Some("built"),
                description: "环保设施未与主体工程同步建设（违反“三同时”要求），废水处理站尚未开工",
            },
            Finding {
                key: "luan-investment-figures", severity: "medium", milestone: None,
                description: "报送的年度投资完成额与现场台账不一致（报送情况与事实不符）",
            },
        ],
    }),
    step("2018-03-22 10:00", Inspector, RED, OrderRectification {
        key: "luan-wastewater", finding: "luan-three-simultaneities", department: "SXEPD",
        deadline: "2018-05-31",
        instructions: "督促企业开工建设废水处理站，与主体工程同步推进，5月31日前报送整改报告",
    }),
    step("2018-03-22 10:30", Inspector, RED, OrderRectification {
        key: "luan-figures", finding: "luan-investment-figures", department: "SXDRC",
        deadline: "2018-04-30",
        instructions: "按现场台账核对投资完成额，更正报送数据并说明原因",
    }),
    step("2018-04-20 10:00", Dept("SXDRC"), RED, ReportRectification {
        key: "luan-figures",
        narrative: "已按现场台账更正投资完成额，并建立月度数据核对制度",
    }),
    step("2018-04-27 15:00", Inspector, RED, VerifyRectification { key: "luan-figures" }),
    step("2018-05-21 10:00", Dept("DT-GOV"), YELLOW, RequestExtension {
        milestone: "built", to: "2019-12-31",
        reason: "低空空域使用审批滞后，跑道和机库施工顺延约半年",
    }),
    step("2018-05-30 10:00", Office, YELLOW, DecideExtension {
        milestone: "built", approve: true,
        reason: "空域审批属客观原因，同意主体工程建成节点延至2019年底，其余节点不变",
    }),
    step("2018-06-08 10:00", Dept("TY-GOV"), GREEN, Report {
        milestone: "midterm", percent: 82, actual: Some(("sales", 310.0)),
        narrative: "2017年基地销售收入310亿元，主要指标达到序时进度",
    }),
    step("2018-06-08 11:00", Dept("SXEIC"), GREEN, Report {
        milestone: "goal", percent: 50, actual: None,
        narrative: "两家骨干企业年销售收入突破100亿元，按计划推进",
    }),
    step("2018-06-12 10:00", Dept("DT-GOV"), YELLOW, Report {
        milestone: "built", percent: 40, actual: None,
        narrative: "跑道土建完成，机库钢结构施工中，航站楼尚未开工",
    }),
    step("2018-06-12 11:00", Dept("DT-GOV"), YELLOW, Report {
        milestone: "goal", percent: 40, actual: Some(("firms", 3.0)),
        narrative: "已签约入园通用航空企业3家，目标10家",
    }),
    step("2018-06-13 10:00", Office, RED, RateConfidence {
        rating: "amber", assessor: "王主任（领导小组办公室）",
        comment: "主体工程进度正常，但环保整改逾期未报，按期投产存在风险",
    }),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_is_in_time_order_and_starts_after_the_import() {
        let mut last = IMPORTED_AT;
        for s in STORY {
            assert!(s.at > last, "{} comes after {last}", s.at);
            last = s.at;
        }
    }
}

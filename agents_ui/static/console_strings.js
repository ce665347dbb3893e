// Console strings added with attachments, snooze wake-ups, the hand-off card and the tablet layout.
// Kept beside i18n.js (which owns the shared table) and following its language choice.
import { currentLang } from "./i18n.js";

const STRINGS = {
  en: {
    attach: "Attach", drop_here: "Drop files to attach", remove: "Remove", files_reply_only: "Files go with replies, not notes",
    customer_card: "Customer", close: "Close", snoozed_until: "Snoozed until", unsnooze: "Wake now", woke: "is back from snooze",
    handoff_intent: "Intent", handoff_asked: "Customer asked", handoff_answer: "Bot's last answer", handoff_articles: "Articles tried",
    csat: "CSAT",
  },
  zh: {
    attach: "附件", drop_here: "拖放文件以添加附件", remove: "移除", files_reply_only: "附件只能随回复发送，不能放在备注里",
    customer_card: "客户", close: "关闭", snoozed_until: "稍后提醒于", unsnooze: "立即唤醒", woke: "的稍后提醒时间到了",
    handoff_intent: "意图", handoff_asked: "客户问题", handoff_answer: "机器人最后回答", handoff_articles: "尝试过的文章",
    csat: "满意度",
  },
};

export function tc(key) {
  return STRINGS[currentLang()]?.[key] ?? STRINGS.en[key] ?? key;
}

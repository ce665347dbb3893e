// Interface language for the console and wallboard: English or Chinese, remembered in localStorage.
const STRINGS = {
  en: {
    waiting: "Waiting", mine: "Mine", resolved: "Resolved", all_channels: "All channels", any_status: "Open",
    any_priority: "Any priority", label_filter: "Label…", pick: "Pick a conversation.", take: "Take",
    resolve: "Resolve", reopen: "Reopen", send: "Send", note: "Note", accept: "Accept", decline: "Decline",
    transfer: "Transfer", snooze: "Snooze", labels: "Labels", priority: "Priority", offer: "New conversation offered",
    reply_ph: "Reply… (Ctrl+Enter sends, /shortcut inserts a canned response)", note_ph: "Private note — @name notifies a colleague",
    customer_typing: "Customer is typing…", earlier: "Earlier conversation", handoff: "Bot handed off", suggestions: "Knowledge base",
    insert_link: "Link", insert_text: "Text", to_agent: "To agent", to_queue: "To queue", transfer_note: "Note for the colleague",
    save: "Save", merge_into: "Merge into customer #", merge: "Merge", tags: "Tags", lifecycle: "Lifecycle", tier: "Tier",
    presence: "Presence", available: "Available", away: "Away", offline: "Offline", logout: "Log out", mention: "mentioned you",
    shortcuts: "Alt+A accept · Alt+D decline · Alt+R resolve · Alt+T transfer · Alt+N note · / reply",
    wallboard: "Wallboard", queue: "Queue", waiting_now: "Waiting", longest: "Longest wait", service_level: "Service level",
    asa: "ASA", aht: "AHT", abandoned: "Abandonment", csat: "CSAT", breaches: "SLA breaches", agents: "Agents",
    handled: "Handled", handle_time: "Handle time", occupancy: "Occupancy", load: "Load", export: "CSV",
    volume: "Volume", by_channel: "by channel", by_queue: "by queue", monitor: "Monitor", reassign: "Reassign", join_note: "Join with a note",
  },
  zh: {
    waiting: "排队中", mine: "我的", resolved: "已解决", all_channels: "全部渠道", any_status: "进行中",
    any_priority: "任意优先级", label_filter: "标签…", pick: "请选择一个会话。", take: "接入",
    resolve: "解决", reopen: "重新打开", send: "发送", note: "备注", accept: "接受", decline: "拒绝",
    transfer: "转接", snooze: "稍后提醒", labels: "标签", priority: "优先级", offer: "新会话分配给您",
    reply_ph: "回复…（Ctrl+Enter 发送，/快捷词 插入快捷回复）", note_ph: "内部备注 — @姓名 通知同事",
    customer_typing: "客户正在输入…", earlier: "历史会话", handoff: "机器人转人工", suggestions: "知识库",
    insert_link: "链接", insert_text: "正文", to_agent: "转给坐席", to_queue: "转到队列", transfer_note: "给同事的备注",
    save: "保存", merge_into: "合并到客户 #", merge: "合并", tags: "标签", lifecycle: "生命周期", tier: "等级",
    presence: "状态", available: "在线", away: "离开", offline: "离线", logout: "退出", mention: "提到了您",
    shortcuts: "Alt+A 接受 · Alt+D 拒绝 · Alt+R 解决 · Alt+T 转接 · Alt+N 备注 · / 回复",
    wallboard: "实时大屏", queue: "队列", waiting_now: "排队", longest: "最长等待", service_level: "服务水平",
    asa: "平均应答", aht: "平均处理", abandoned: "放弃率", csat: "满意度", breaches: "SLA 违约", agents: "坐席",
    handled: "处理量", handle_time: "处理时长", occupancy: "占用率", load: "负载", export: "CSV",
    volume: "会话量", by_channel: "按渠道", by_queue: "按队列", monitor: "监听", reassign: "重新分配", join_note: "加入备注",
  },
};

let lang = localStorage.getItem("kefu.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function currentLang() {
  return lang;
}

export function setLang(value) {
  lang = value in STRINGS ? value : "en";
  localStorage.setItem("kefu.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  translate(document);
}

export function translate(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-ph]")) node.placeholder = t(node.dataset.i18nPh);
}

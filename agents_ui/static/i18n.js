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

// ---- bot designer (designer*.js): keys start with d_ ----
Object.assign(STRINGS.en, {
  d_title: "Bot designer", d_intents: "Intents", d_responses: "Responses", d_extras: "Entities", d_kb: "Articles",
  d_train: "Versions", d_test: "Test", d_review: "Review", d_eval: "Evaluation", d_io: "Import/export",
  d_console: "Console", d_forbidden: "The bot designer is for designers and admins.", d_save: "Save draft",
  d_train_now: "Train", d_draft: "Draft", d_based_on: "based on version", d_unsaved: "unsaved changes",
  d_saved_at: "saved", d_stale: "Someone else saved the draft meanwhile: reload it before saving.",
  d_reload: "Discard my changes and reload",
  d_merged: "Saved, together with changes someone else saved meanwhile.",
  d_askers: "customers asked this", d_same_settled: "more of the same question settled too",
  d_conflict: "Not saved: someone else changed the same items meanwhile. Reload, then make your edits to them again:",
  d_kind_intent: "intent", d_kind_entity: "entity", d_kind_synonym: "synonym", d_kind_regex: "regex",
  d_kind_lookup_table: "lookup table", d_kind_response: "response",
  d_filter: "Filter intents…", d_new_intent: "new_intent", d_examples: "Examples", d_examples_n: "examples",
  d_pr_title: "held-out precision and recall", d_exists: "That name is taken.", d_rename: "Name", d_delete: "Delete",
  d_entity: "entity", d_mark_entity: "Mark as entity",
  d_select_hint: "Select words of an example to mark them as an entity.",
  d_entity_name_needed: "Type the entity's name first.", d_overlap: "That overlaps an entity already marked.",
  d_new_example: "New example — [words](entity) marks an entity", d_add: "Add", d_remove_entity: "Remove this entity",
  d_remove: "Remove", d_response: "Response", d_add_response: "Add a response",
  d_duplicate: "That example is already under", d_pick_intent: "Pick or add an intent.", d_variations_n: "variations",
  d_no_responses: "No responses yet.", d_add_variation: "+ Variation", d_button_title: "Button title",
  d_button: "button", d_language: "Language", d_channel: "Channel", d_any: "any",
  d_kept_fields: "(image/custom payload kept)", d_reply_text: "Reply text", d_synonyms: "Synonyms",
  d_synonyms_help: "What customers type (one per line) and the value the bot uses.", d_regex: "Regex features",
  d_regex_help: "Patterns (one per line) that find an entity or help the classifier.", d_lookups: "Lookup tables",
  d_entity_types: "Entity types", d_no_finder: "no regex or lookup finds it",
  d_lookups_help: "Known values of an entity, one per line.", d_value: "Value", d_name: "Name",
  d_one_per_line: "One per line", d_version_label: "Label of the new version", d_versions: "Versions",
  d_rollback: "Roll back", d_training_started: "Training started:", d_failed: "failed", d_trained: "trained",
  d_accuracy: "Accuracy", d_label: "Label", d_status: "Status", d_trained_at: "Trained", d_intents_n: "intents",
  d_active: "active", d_activate: "Activate", d_load: "Open in editor", d_is_active: "is now answering customers",
  d_rolled_back: "Rolled back to", d_discard: "Discard the unsaved changes?", d_loaded: "opened in the editor",
  d_status_new: "new", d_status_training: "training", d_status_ready: "ready", d_status_failed: "failed",
  d_version: "Version", d_test_ph: "A customer message, in Chinese or English (Enter tests it)", d_test_send: "Test",
  d_would_hand_off: "Would hand off to a person", d_by_intent: "Would answer by intent",
  d_by_article: "Would answer with an article", d_by_rephrase: "Would ask to rephrase", d_by_rasa: "Rasa would answer",
  d_ranking: "Intent ranking", d_threshold: "threshold", d_entities: "Entities", d_articles: "Articles tried",
  d_none: "None.", d_new_article: "New article", d_pick_article: "Pick an article or write a new one.",
  d_title_field: "Title", d_tags: "tags, comma separated", d_save_article: "Save", d_publish: "Publish",
  d_unpublish: "Unpublish", d_saved: "Saved", d_all: "All", d_kb_draft: "draft", d_kb_published: "published",
  d_kb_archived: "archived", d_review_empty: "Nothing to review.", d_rs_pending: "Pending", d_rs_assigned: "Assigned",
  d_rs_dismissed: "Dismissed", d_reason_unsure: "Unsure", d_reason_kb_fallback: "Answered by article",
  d_reason_handed_off: "Handed off", d_reason_did_not_help: "Did not help", d_message: "Message", d_reason: "Why",
  d_guess: "Bot's guess", d_when: "When", d_intent: "Intent", d_article: "Article", d_to_intent: "Intent…",
  d_to_article: "Article…", d_assign: "Add as example", d_link: "Link", d_out_of_scope: "Out of scope",
  d_dismiss: "Dismiss", d_save_first: "Save the draft first.", d_done_assign: "added as an example",
  d_done_article: "linked to the article", "d_done_out-of-scope": "marked out of scope", d_done_dismiss: "dismissed",
  d_answered: "Answered", d_per_intent: "Per intent", d_precision: "Precision", d_recall: "Recall",
  d_support: "Support", d_confused: "Most confused pairs", d_predicted: "Taken for",
  d_conflicts: "Conflicting examples (same text, two intents)", d_thin: "Intents with too few examples",
  d_train_new: "Train a new version from the draft",
  d_not_evaluated: "This version has no evaluation (not trained, or trained before evaluations were kept).",
  d_import_rasa: "Import a Rasa project", d_import_kefu: "Import Kefu JSON", d_import: "Import", d_export: "Export",
  d_export_help: "Kefu JSON holds everything; Rasa files hold intents, entities, synonyms, regexes, lookups and responses.",
  d_pick_nlu: "Choose an nlu.yml file.", d_pick_file: "Choose a file.", d_imported: "Imported",
});
Object.assign(STRINGS.zh, {
  d_title: "机器人设计", d_intents: "意图", d_responses: "回复", d_extras: "实体", d_kb: "知识库文章", d_train: "训练与版本", d_test: "测试",
  d_review: "待审核", d_eval: "评估", d_io: "导入 / 导出", d_console: "坐席工作台", d_forbidden: "机器人设计仅限设计师和管理员使用。", d_save: "保存草稿",
  d_train_now: "训练", d_draft: "草稿", d_based_on: "基于版本", d_unsaved: "有未保存的修改", d_saved_at: "保存于",
  d_stale: "其他人已保存了草稿：请先重新加载再保存。", d_reload: "放弃我的修改并重新加载",
  d_merged: "已保存，并合并了其他人在此期间保存的修改。",
  d_askers: "位客户问过", d_same_settled: "条相同的问题已一并处理",
  d_conflict: "未保存：其他人在此期间修改了相同的条目。请重新加载，再对这些条目重做修改：",
  d_kind_intent: "意图", d_kind_entity: "实体", d_kind_synonym: "同义词", d_kind_regex: "正则",
  d_kind_lookup_table: "查找表", d_kind_response: "回复",
  d_filter: "筛选意图…", d_new_intent: "新意图名", d_examples: "例句", d_examples_n: "条例句",
  d_pr_title: "留出集精确率和召回率", d_exists: "名称已存在。", d_rename: "名称", d_delete: "删除", d_entity: "实体", d_mark_entity: "标记为实体",
  d_select_hint: "在例句中选中文字即可标记为实体。", d_entity_name_needed: "请先输入实体名。", d_overlap: "与已标记的实体重叠。",
  d_new_example: "新例句 — [文字](实体) 标记实体", d_add: "添加", d_remove_entity: "删除此实体", d_remove: "删除", d_response: "回复",
  d_add_response: "添加回复", d_duplicate: "该例句已属于", d_pick_intent: "请选择或添加一个意图。", d_variations_n: "个变体",
  d_no_responses: "还没有回复。", d_add_variation: "+ 变体", d_button_title: "按钮标题", d_button: "按钮", d_language: "语言",
  d_channel: "渠道", d_any: "任意", d_kept_fields: "（图片/自定义内容已保留）", d_reply_text: "回复内容", d_synonyms: "同义词",
  d_synonyms_help: "客户的说法（每行一个）和机器人使用的值。", d_regex: "正则特征", d_regex_help: "用于识别实体或辅助分类的正则（每行一个）。", d_lookups: "查找表",
  d_entity_types: "实体类型", d_no_finder: "没有正则或查找表能识别",
  d_lookups_help: "实体的已知取值，每行一个。", d_value: "值", d_name: "名称", d_one_per_line: "每行一个", d_version_label: "新版本的标签",
  d_versions: "版本", d_rollback: "回滚", d_training_started: "开始训练：", d_failed: "失败", d_trained: "已训练", d_accuracy: "准确率",
  d_label: "标签", d_status: "状态", d_trained_at: "训练时间", d_intents_n: "个意图", d_active: "生效中", d_activate: "启用",
  d_load: "在编辑器中打开", d_is_active: "已开始接待客户", d_rolled_back: "已回滚到", d_discard: "放弃未保存的修改？", d_loaded: "已在编辑器中打开",
  d_status_new: "新建", d_status_training: "训练中", d_status_ready: "就绪", d_status_failed: "失败", d_version: "版本",
  d_test_ph: "输入一条中文或英文的客户消息（回车测试）", d_test_send: "测试", d_would_hand_off: "将转人工", d_by_intent: "将按意图回复",
  d_by_article: "将回复知识库文章", d_by_rephrase: "将请客户换个说法", d_by_rasa: "由 Rasa 回复", d_ranking: "意图排名", d_threshold: "阈值",
  d_entities: "实体", d_articles: "检索到的文章", d_none: "无。", d_new_article: "新文章", d_pick_article: "选择一篇文章或新建。",
  d_title_field: "标题", d_tags: "标签，逗号分隔", d_save_article: "保存", d_publish: "发布", d_unpublish: "取消发布", d_saved: "已保存",
  d_all: "全部", d_kb_draft: "草稿", d_kb_published: "已发布", d_kb_archived: "已归档", d_review_empty: "没有待审核的消息。",
  d_rs_pending: "待处理", d_rs_assigned: "已分配", d_rs_dismissed: "已忽略", d_reason_unsure: "不确定",
  d_reason_kb_fallback: "用文章回答", d_reason_handed_off: "已转人工", d_reason_did_not_help: "没有帮助", d_message: "消息",
  d_reason: "原因", d_guess: "机器人猜测", d_when: "时间", d_intent: "意图", d_article: "文章", d_to_intent: "意图…",
  d_to_article: "文章…", d_assign: "添加为例句", d_link: "关联", d_out_of_scope: "超出范围", d_dismiss: "忽略",
  d_save_first: "请先保存草稿。", d_done_assign: "已添加为例句", d_done_article: "已关联到文章", "d_done_out-of-scope": "已标记为超出范围",
  d_done_dismiss: "已忽略", d_answered: "已回答", d_per_intent: "各意图", d_precision: "精确率", d_recall: "召回率", d_support: "样本数",
  d_confused: "最易混淆的意图", d_predicted: "被识别为", d_conflicts: "冲突的例句（同一句话属于两个意图）", d_thin: "例句太少的意图",
  d_train_new: "用草稿训练新版本", d_not_evaluated: "此版本没有评估结果（未训练，或训练于保存评估之前）。", d_import_rasa: "导入 Rasa 项目",
  d_import_kefu: "导入 Kefu JSON", d_import: "导入", d_export: "导出",
  d_export_help: "Kefu JSON 包含全部内容；Rasa 文件包含意图、实体、同义词、正则、查找表和回复。", d_pick_nlu: "请选择 nlu.yml 文件。",
  d_pick_file: "请选择文件。", d_imported: "已导入",
});
// ---- end of bot designer ----

// ---- supervisor settings (settings.js): keys start with s_ ----
Object.assign(STRINGS.en, {
  s_title: "Settings", s_console: "Console", s_forbidden: "Settings are for supervisors and admins.",
  s_queues: "Queues", s_queue: "Queue", s_hours: "Business hours", s_auto_accept: "Auto-accept",
  s_first_response: "First response target", s_closed_message: "Closed notice", s_always_open: "Always open",
  s_new_queue_ph: "New queue name", s_add: "Add", s_calendars: "Business hours", s_new_calendar: "New calendar",
  s_pick_calendar: "Calendar…", s_id: "Id", s_name: "Name", s_timezone: "Time zone",
  s_weekly: "Weekly hours (e.g. 09:00-12:00, 13:00-18:00; empty: closed)",
  s_holidays: "Holidays, one per line (2026-10-01 once, 12-25 every year)",
  s_special: "Special hours, one date per line (2026-02-14 09:00-18:00; 2026-02-24 closed)", s_saved: "Saved.",
  s_mon: "Monday", s_tue: "Tuesday", s_wed: "Wednesday", s_thu: "Thursday", s_fri: "Friday", s_sat: "Saturday",
  s_sun: "Sunday", settings: "Settings", s_agents: "Agents", s_agent: "Agent",
  s_skills: "Skills (comma-separated)", s_chats_at_once: "Chats at once", s_emails_at_once: "Emails at once",
});
Object.assign(STRINGS.zh, {
  s_title: "设置", s_console: "坐席工作台", s_forbidden: "设置仅限主管和管理员。",
  s_queues: "队列", s_queue: "队列", s_hours: "营业时间", s_auto_accept: "自动接入",
  s_first_response: "首次响应目标", s_closed_message: "下班提示", s_always_open: "全天候",
  s_new_queue_ph: "新队列名称", s_add: "添加", s_calendars: "营业时间", s_new_calendar: "新建日历",
  s_pick_calendar: "日历…", s_id: "标识", s_name: "名称", s_timezone: "时区",
  s_weekly: "每周营业时间（如 09:00-12:00, 13:00-18:00；留空为休息）",
  s_holidays: "节假日，每行一个（2026-10-01 仅一次，12-25 每年）",
  s_special: "特殊营业时间，每行一天（2026-02-14 09:00-18:00 调休上班；2026-02-24 休息）", s_saved: "已保存。",
  s_mon: "周一", s_tue: "周二", s_wed: "周三", s_thu: "周四", s_fri: "周五", s_sat: "周六", s_sun: "周日",
  settings: "设置", s_agents: "坐席", s_agent: "坐席", s_skills: "技能（逗号分隔）",
  s_chats_at_once: "同时接待会话数", s_emails_at_once: "同时处理邮件数",
});
// ---- end of supervisor settings ----

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

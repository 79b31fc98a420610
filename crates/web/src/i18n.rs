//! Chinese-first UI texts with an English switch. Content (item names, guides) stays in the
//! language it was written in, with English names where departments supply them.

use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the `lang` cookie; Chinese unless English was chosen.
    pub fn from_parts(parts: &Parts) -> Lang {
        let cookies = parts.headers.get_all(axum::http::header::COOKIE);
        for c in cookies.iter().filter_map(|v| v.to_str().ok()) {
            for kv in c.split(';') {
                if kv.trim() == "lang=en" {
                    return Lang::En;
                }
            }
        }
        Lang::Zh
    }
    pub fn english(self) -> bool {
        self == Lang::En
    }
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

macro_rules! texts {
    ($($key:ident: $zh:literal, $en:literal;)+) => {
        /// Every UI string, by key.
        pub struct Texts { $(pub $key: &'static str,)+ }
        pub static ZH: Texts = Texts { $($key: $zh,)+ };
        pub static EN: Texts = Texts { $($key: $en,)+ };
    };
}

texts! {
    site_name: "江川政务服务网", "Jiangchuan Government Services";
    site_tagline: "一网通办 · 一次办好", "One network, done in one go";
    skip_to_content: "跳到主要内容", "Skip to main content";
    nav_home: "首页", "Home";
    nav_items: "办事服务", "Services";
    nav_departments: "部门", "Departments";
    nav_api: "开放接口", "API";
    nav_workbench: "工作台", "Workbench";
    login: "工作人员登录", "Staff sign in";
    citizen_login_title: "个人 / 法人登录", "Sign in";
    logout: "退出", "Sign out";
    switch_lang: "English", "中文";
    switch_lang_code: "en", "zh";
    search_label: "搜索办事事项", "Search services";
    search_placeholder: "例如：营业执照、提取公积金、身份证", "e.g. business licence, provident fund, ID card";
    search_button: "搜索", "Search";
    for_persons: "个人办事", "For individuals";
    for_business: "法人办事", "For businesses";
    hot_items: "热门事项", "Popular services";
    bundles: "一件事一次办", "Life events, all in one";
    all_departments: "全部部门", "All departments";
    results_for: "搜索结果", "Results";
    results_count: "共找到", "Found";
    results_unit: "项", "services";
    no_results: "没有找到相关事项。请换个说法，例如“营业执照”“公积金”“身份证”。", "No services found. Try other words, e.g. licence, provident fund, ID card.";
    filters: "筛选", "Filters";
    filter_audience: "服务对象", "Who";
    filter_type: "事项类型", "Type";
    filter_region: "行政区划", "Region";
    filter_department: "实施部门", "Department";
    filter_theme: "主题", "Theme";
    any: "不限", "Any";
    apply: "筛选", "Apply";
    department: "实施部门", "Department";
    promised_days: "承诺时限", "Promised time";
    statutory_days: "法定时限", "Statutory time";
    working_days: "个工作日", "working days";
    on_the_spot: "即办", "On the spot";
    visits: "到现场次数", "Visits needed";
    zero_visit: "不见面", "No visit";
    at_most_once: "最多跑一次", "At most one visit";
    online_depth: "网办深度", "Online depth";
    guide: "办事指南", "Service guide";
    basic_info: "基本信息", "Basic information";
    impl_code: "实施编码", "Implementation code";
    item_type: "事项类型", "Item type";
    exercise_level: "行使层级", "Level";
    legal_basis: "设定依据", "Legal basis";
    conditions: "受理条件", "Conditions";
    materials: "申请材料", "Documents required";
    material_name: "材料名称", "Document";
    material_form: "形式", "Form";
    material_count: "份数", "Copies";
    material_format: "格式", "Format";
    licence_replaceable: "可用电子证照免交", "Replaced by e-licence";
    procedure: "办理流程", "Procedure";
    fees: "收费标准", "Fees";
    free: "不收费", "Free";
    place_hours: "办理地点和时间", "Where and when";
    place: "办理地点", "Place";
    hours: "办理时间", "Hours";
    contacts: "咨询与投诉", "Enquiries and complaints";
    enquiry_phone: "咨询电话", "Enquiries";
    complaint_phone: "监督投诉电话", "Complaints";
    result: "办理结果", "Result";
    channels: "办理渠道", "Channels";
    case_kind: "办件类型", "Case kind";
    apply_online: "在线办理", "Apply online";
    print_guide: "打印办事指南", "Print the guide";
    suspended_notice: "该事项已暂停办理，请联系实施部门。", "This service is suspended; please contact the department.";
    lead_department: "牵头部门", "Lead department";
    bundle_items: "包含事项", "Included services";
    version: "版本", "Version";
    updated: "更新时间", "Updated";
    username: "用户名", "Username";
    password: "密码", "Password";
    sign_in: "登录", "Sign in";
    nav_account: "我的账号", "My account";
    citizen_login: "个人/法人登录", "Sign in";
    staff_login_link: "工作人员登录", "Staff sign in";
    login_id: "身份证号或手机号", "ID number or mobile number";
    register: "注册", "Register";
    register_title: "注册个人账号", "Create a personal account";
    no_account: "还没有账号？", "No account yet?";
    forgot_password: "忘记密码", "Forgot password";
    full_name: "姓名", "Full name";
    id_number: "居民身份证号码", "Citizen ID number";
    phone: "手机号码", "Mobile number";
    email_optional: "电子邮箱（选填）", "Email (optional)";
    password_rule: "至少10位，包含字母、数字、符号中的两类，不含身份证号或手机号", "At least 10 characters with two of letters, digits and symbols; must not contain your ID or phone number";
    account_title: "我的账号", "My account";
    assurance: "实名认证等级", "Assurance level";
    verify_online: "在线实名核验", "Verify my identity online";
    verify_online_help: "与公安人口库比对姓名和身份证号，通过后升级为L2", "Checks your name and ID number against the population register; raises you to L2";
    verify_in_person_hint: "携带身份证到任一政务服务窗口可完成L3现场核验", "Bring your ID card to any service window to reach L3";
    my_businesses: "我的企业", "My businesses";
    acting_as: "当前身份", "Acting as";
    act_as_self: "以个人身份办事", "Act as myself";
    act_for: "切换为该企业办事", "Act for this business";
    add_business: "开通法人账号", "Add a business";
    credit_code: "统一社会信用代码", "Unified social credit code";
    representative: "法定代表人", "Legal representative";
    agent: "经办人", "Agent";
    agents: "经办人授权", "Agents";
    grant_agent: "授权经办人", "Authorise an agent";
    scopes: "授权范围", "Scopes";
    expires_on: "有效期至", "Valid until";
    revoke: "撤销", "Revoke";
    revoked: "已撤销", "Revoked";
    active_sessions: "登录中的设备", "Signed-in devices";
    this_session: "当前设备", "This device";
    signed_in_at: "登录时间", "Signed in";
    login_history: "登录记录", "Sign-in history";
    source: "来源", "Source";
    reset_title: "找回密码", "Reset password";
    reset_help: "输入注册时的身份证号或手机号，我们将向绑定手机发送重置链接。", "Enter your ID or mobile number; we will text a reset link to your phone.";
    reset_sent: "如果该账号存在，重置链接已发送到绑定手机，30分钟内有效。", "If the account exists, a reset link has been sent to its phone; it is valid for 30 minutes.";
    new_password: "新密码", "New password";
    password_changed: "密码已重置，请使用新密码登录。", "Password reset; please sign in with the new password.";
    send: "发送", "Send";
    confirm: "确认", "Confirm";
    totp_title: "动态验证码", "Authenticator code";
    totp_help: "请输入身份验证器应用中显示的6位动态验证码。", "Enter the 6-digit code shown in your authenticator app.";
    totp_enroll_help: "工作人员账号须启用双因素认证。请用身份验证器应用扫描二维码（或手动输入密钥），然后输入显示的6位验证码。", "Staff accounts need two-factor sign-in. Scan the QR code with an authenticator app (or type the key), then enter the 6-digit code.";
    totp_secret_label: "密钥：", "Key: ";
    totp_code: "6位验证码", "6-digit code";
    consent_title: "授权登录", "Authorise sign-in";
    consent_intro: "以下应用请求使用您的一网账号登录，并获取以下信息：", "This application asks to sign you in with your yiwang account and to receive:";
    allow: "同意并登录", "Allow";
    deny: "拒绝", "Deny";
    oidc_error_title: "无法完成登录", "Sign-in cannot continue";
    logout_confirm: "确认退出登录？", "Sign out now?";
    signed_out: "您已退出登录。", "You have signed out.";
    verify_person_title: "现场实名核验（L3）", "In-person identity check (L3)";
    verify_person_help: "核对申请人所持居民身份证原件后，输入证件号码和姓名。", "After checking the applicant's original ID card, enter its number and name.";
    verified_ok: "核验完成", "Verified";
    clients_title: "接入系统（OIDC客户端）", "Connected systems (OIDC clients)";
    client_name: "系统名称", "System name";
    redirect_uris: "回调地址（每行一个）", "Redirect URIs (one per line)";
    logout_uris: "退出后回调地址（每行一个，选填）", "Post-logout redirect URIs (one per line, optional)";
    subject_kind: "用户类型", "User type";
    id_token_alg: "ID令牌签名算法", "ID token signing algorithm";
    register_client: "登记接入系统", "Register system";
    client_secret_once: "客户端密钥只显示这一次，请立即妥善保存：", "The client secret is shown only this once; store it now:";
    disable: "停用", "Disable";
    enable: "启用", "Enable";
    disabled: "已停用", "Disabled";
    my_sessions: "我的登录设备", "My sessions";
    not_found_title: "页面不存在", "Page not found";
    error_title: "出错了", "Something went wrong";
    back_home: "返回首页", "Back to home";
    stars: "星", "stars";
    page_prev: "上一页", "Previous";
    page_next: "下一页", "Next";
    apply_here: "在线申请", "Apply online";
    nav_my_cases: "我的办件", "My cases";
    nav_inbox: "消息", "Messages";
    my_cases: "我的办件", "My cases";
    no_cases: "还没有办件。在办事指南页点击“在线申请”即可开始。", "No cases yet. Choose “Apply online” on a service guide to start.";
    case_number: "办件编号", "Case number";
    case_status: "状态", "Status";
    case_title: "事项", "Service";
    submitted_at: "提交时间", "Submitted";
    due_date: "承诺办结日期", "Due";
    draft_no_number: "（草稿，提交后生成编号）", "(draft; numbered on submission)";
    application_form: "申请表", "Application form";
    prefilled_hint: "已为您自动填写平台已掌握的信息，请核对。", "Information the platform already holds has been filled in for you; please check it.";
    show_if_hint: "仅当以下选项为此值时填写：", "Only when this is chosen:";
    required_mark: "必填", "required";
    upload: "上传", "Upload";
    uploaded: "已上传", "Uploaded";
    not_uploaded: "未上传", "Not uploaded";
    material_types: "支持 PDF、JPG、PNG，单个文件不超过10MB", "PDF, JPG or PNG, up to 10 MB each";
    replaceable_by_licence: "可用电子证照替代", "An e-licence can replace it";
    delivery_method: "结果送达方式", "How to receive the result";
    delivery_address: "邮寄地址（选择邮寄时必填）", "Postal address (for courier)";
    save_draft: "保存", "Save";
    start_application: "开始申请", "Start application";
    submit_application: "提交申请", "Submit";
    resubmit: "提交补正", "Submit corrections";
    withdraw: "撤回申请", "Withdraw";
    precheck_failed: "申请未通过预审，请按以下意见一次性修改：", "The application did not pass the pre-check; please fix all of the following:";
    correction_needed: "需要补正：", "Please correct:";
    timeline: "办理进度", "Progress";
    decision: "办理结果", "Result";
    branches: "部门办理情况", "Departments";
    current_step: "当前环节", "Current step";
    step_due: "环节时限", "Step due";
    version_hint: "版本", "Version";
    inbox_title: "站内消息", "Messages";
    mark_all_read: "全部标为已读", "Mark all read";
    no_messages: "暂无消息", "No messages";
    staff_cases: "办件工作台", "Case queue";
    queue_empty: "暂无待办办件", "Nothing waiting";
    filter: "筛选", "Filter";
    all_statuses: "全部状态", "All statuses";
    urgent_only: "仅看临期和超期", "Only due soon and overdue";
    urgency_green: "正常", "On time";
    urgency_yellow: "临期", "Due soon";
    urgency_red: "超期", "Overdue";
    applicant: "申请人", "Applicant";
    channel: "渠道", "Channel";
    act_accept: "受理", "Accept";
    act_accept_spot: "受理并当场办结", "Accept and finish now";
    act_not_accept: "不予受理", "Refuse to accept";
    act_correction: "一次性告知补正", "Request corrections";
    act_approve: "通过本环节", "Approve this step";
    act_reject: "不予许可", "Refuse";
    act_return: "退回上一环节", "Return to previous step";
    act_deliver: "确认送达", "Mark delivered";
    reason_or_note: "理由或说明（申请人可见）", "Reason or note (the applicant sees it)";
    window_intake: "窗口收件（一窗受理）", "Window intake";
    window_intake_help: "为到窗口办事的群众和企业录入申请并受理，纸质材料当场核验。", "Record and accept an application made in person; paper materials are checked on the spot.";
    item_code_label: "事项实施编码", "Implementation code";
    applicant_kind: "申请人类型", "Applicant type";
    kind_person: "个人", "Individual";
    kind_business: "企业", "Business";
    applicant_name_label: "申请人姓名或企业名称", "Applicant name";
    applicant_id_label: "身份证号或统一社会信用代码", "ID number or credit code";
    agent_name_label: "经办人姓名（企业）", "Agent name (business)";
    agent_id_label: "经办人身份证号（企业）", "Agent ID number (business)";
    continue_label: "下一步", "Continue";
    accept_now: "录入并受理", "Record and accept";
    finish_on_the_spot: "即办件当场办结", "Finish on the spot (instant item)";
    download: "下载", "Download";
    footer_note: "主办：江川省政务服务管理局（演示数据，非真实机构）", "Run by the Jiangchuan Government Services Administration (demo data, not a real agency)";
}

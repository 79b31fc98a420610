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
    not_found_title: "页面不存在", "Page not found";
    error_title: "出错了", "Something went wrong";
    back_home: "返回首页", "Back to home";
    stars: "星", "stars";
    page_prev: "上一页", "Previous";
    page_next: "下一页", "Next";
    footer_note: "主办：江川省政务服务管理局（演示数据，非真实机构）", "Run by the Jiangchuan Government Services Administration (demo data, not a real agency)";
}

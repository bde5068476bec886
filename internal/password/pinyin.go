package password

// pinyinSurnames are about a hundred of the most frequent Chinese surnames
// in pinyin (the ü of 吕 written v, as keyboards type it), compound ones
// included.
var pinyinSurnames = []string{
	"wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou",
	"xu", "sun", "ma", "zhu", "hu", "guo", "he", "gao", "lin", "luo",
	"zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng",
	"zeng", "xiao", "tian", "dong", "yuan", "pan", "yu", "jiang", "cai", "jia",
	"ding", "wei", "xue", "ye", "yan", "lu", "du", "dai", "xia", "zhong",
	"fu", "qiu", "wen", "fang", "jin", "shi", "tan", "liao", "zou", "xiong",
	"lv", "meng", "qin", "bai", "yao", "shao", "hao", "kong", "cui", "kang",
	"mao", "qian", "tao", "gu", "hou", "shen", "ren", "duan", "lei", "fan",
	"long", "wan", "chang", "qi", "yin", "yi", "ou", "niu", "pang", "mo",
	"ke", "lai", "geng", "ling", "bi", "ouyang", "situ", "shangguan", "zhuge", "murong",
}

// pinyinGiven are syllables common in given names (伟, 芳, 娜, 敏, 静…).
var pinyinGiven = []string{
	"wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang",
	"yong", "yan", "jie", "juan", "tao", "ming", "chao", "xiu", "xia", "ping",
	"gang", "gui", "hua", "hong", "ying", "dan", "ling", "bin", "bo", "hui",
	"hao", "kai", "xin", "yu", "yi", "jia", "jian", "peng", "fei", "long",
	"tian", "ting", "ning", "lin", "xue", "mei", "yun", "qing", "zhi", "wen",
	"hai", "dong", "feng", "chen", "xiao", "zhen", "rui", "shan", "cheng", "qian",
	"han", "xuan", "yue", "xiang", "chun", "qiu", "lan", "ju", "zi", "an",
	"bing", "cong", "fu", "guang", "guo", "jin", "kun", "liang", "lu", "nan",
	"pei", "qi", "ran", "rong", "shu", "song", "tong", "wu", "xi", "xing",
	"yao", "ye", "yin", "zhe", "zhu", "ze", "meng", "jiao", "ke", "le",
	"sheng", "shuang", "si", "ao", "bao", "bei", "da", "de", "en", "er",
	"hang", "heng", "huan", "jiang", "kang", "lang", "qin", "quan", "shi", "sen",
}

// The left menu. THE single place where menu entries are added: when a new
// page exists, add (or uncomment) its entry here and its route in router.ts.
import type { Component } from 'vue'
import { Avatar, Bell, Cpu, Document, Key, OfficeBuilding, PhoneFilled, Picture, Stamp, Tickets, User, UserFilled } from '@element-plus/icons-vue'
import type { Me, Permission, Role } from '@/api/client'

export interface MenuItem {
  title: string
  icon?: Component
  /** Leaf entries navigate to `path`; groups have `children` instead. */
  path?: string
  children?: MenuItem[]
  /** Only these roles see the entry (all roles when omitted). */
  roles?: Role[]
  /** The permission the page needs (角色权限); hidden without it. Keep in step with the route's meta.perm. */
  perm?: Permission
}

export const menus: MenuItem[] = [
  {
    title: '小区信息管理',
    icon: OfficeBuilding,
    children: [
      { title: '小区信息列表', path: '/communities', perm: 'community.view' },
      { title: '房屋信息列表', path: '/housing', perm: 'housing.view' },
    ],
  },
  {
    title: '业主管理',
    icon: Avatar,
    children: [
      { title: '业主列表', path: '/residents', perm: 'residents.view' },
      { title: '业主申请列表', path: '/applications', perm: 'applications.view' },
    ],
  },
  {
    title: '门禁信息管理',
    icon: Key,
    children: [
      { title: '门禁卡列表', path: '/cards', perm: 'cards.view' },
      { title: '设备列表', path: '/devices', perm: 'devices.view' },
      { title: '监控设备', path: '/cameras', perm: 'devices.view' },
      { title: '访客通行', path: '/passes', perm: 'passes.view' },
    ],
  },
  {
    title: '公告信息管理',
    icon: Bell,
    children: [
      { title: '小区通知', path: '/notices', perm: 'notices.view' },
      { title: '房间通知', path: '/room-notices', perm: 'notices.view' },
    ],
  },
  {
    title: '内容信息管理',
    icon: Picture,
    children: [{ title: '门口机内容管理', path: '/ads', perm: 'ads.view' }],
  },
  {
    title: '门口呼叫',
    icon: PhoneFilled,
    children: [{ title: '门口呼叫', path: '/door-calls', perm: 'doorcall.answer' }],
  },
  {
    title: '记录信息管理',
    icon: Tickets,
    children: [
      { title: '呼叫记录', path: '/records/calls', perm: 'records.view' },
      { title: '开锁记录', path: '/records/unlocks', perm: 'records.view' },
    ],
  },
  { title: '固件管理', icon: Cpu, path: '/firmware', roles: ['operator'] },
  { title: '账号管理', icon: UserFilled, path: '/accounts', roles: ['operator'] },
  { title: '操作日志', icon: Document, path: '/audit-log', perm: 'staff.manage' },
  { title: '员工与角色', icon: Stamp, path: '/staff', roles: ['property_admin'], perm: 'staff.manage' },
  { title: '个人信息中心', icon: User, path: '/profile' },
]

/** The entries me may open: by account kind and by the permissions of its role. */
export function visibleMenus(me: Me | null | undefined, items: MenuItem[] = menus): MenuItem[] {
  const role = me?.role
  const out: MenuItem[] = []
  for (const m of items) {
    if (m.roles && (!role || !m.roles.includes(role))) continue
    if (m.perm && role !== 'operator' && !(me?.permissions ?? []).includes(m.perm)) continue
    if (m.children) {
      const children = visibleMenus(me, m.children)
      if (children.length > 0) out.push({ ...m, children })
    } else {
      out.push(m)
    }
  }
  return out
}

/** Title of the menu entry for a path, e.g. for the top bar breadcrumb. */
export function menuTrail(path: string, items: MenuItem[] = menus): string[] {
  for (const m of items) {
    if (m.path && (path === m.path || path.startsWith(`${m.path}/`))) return [m.title]
    if (m.children) {
      const sub = menuTrail(path, m.children)
      if (sub.length > 0) return [m.title, ...sub]
    }
  }
  return []
}

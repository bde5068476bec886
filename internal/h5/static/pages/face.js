// 人脸: the consent text, then a photo (the front camera on a phone); my
// photo when there is one; withdrawing consent deletes it everywhere.
import { api, h, loading, failed, errorBox, toast, confirmSheet, blobURL, when, put } from '../core.js'

const MAX_SIDE = 1280

export function render(box) {
  let url = ''
  const load = async () => {
    put(box, loading())
    let face
    try {
      face = await api('GET', '/face')
    } catch (e) {
      put(box, failed(e, load))
      return
    }
    const parts = []
    if (face.has_photo && face.consented_at) {
      const img = h('img.face-photo', { alt: '我的人脸照片', testid: 'h5-face-photo' })
      blobURL('/face/photo').then((u) => { url = u; img.src = u }).catch(() => { img.alt = '照片加载失败' })
      const err = errorBox()
      parts.push(h('div.card.center', { testid: 'h5-face-current' },
        img,
        h('p.muted.small', '已于 ' + when(face.consented_at) + ' 同意并上传，可刷脸开门'),
        err,
        h('div.actions',
          h('button.btn.ghost', { type: 'button', testid: 'h5-face-replace', onclick: () => { upload.hidden = false; upload.scrollIntoView() } }, '重新上传'),
          h('button.btn.ghost.danger', {
            type: 'button', testid: 'h5-face-withdraw',
            onclick: async () => {
              if (!(await confirmSheet('撤回同意？您的人脸照片将被删除，并从各门口机上移除，之后不能刷脸开门。', '撤回并删除'))) return
              try {
                await api('DELETE', '/face')
                toast('已撤回，人脸照片已删除')
                load()
              } catch (e) { err.show(e) }
            },
          }, '撤回同意'))))
    }
    const upload = uploadForm(face, load)
    upload.hidden = !!(face.has_photo && face.consented_at)
    parts.push(upload)
    put(box, ...parts)
  }
  load()
  return () => { if (url) URL.revokeObjectURL(url) }
}

function uploadForm(face, done) {
  const err = errorBox()
  const agree = h('input', { type: 'checkbox', testid: 'h5-face-consent' })
  const file = h('input.file-hidden', { type: 'file', accept: 'image/jpeg,image/png', capture: 'user', testid: 'h5-face-file', 'aria-label': '拍照或选择人脸照片' })
  const chosen = h('span.hint', { testid: 'h5-face-chosen' }, '请正对镜头、光线充足、不戴帽子和口罩；支持 JPG、PNG')
  const preview = h('img.face-photo', { alt: '待上传的照片', hidden: true })
  const submit = h('button.btn.block', { type: 'submit', disabled: true, testid: 'h5-face-submit' }, '同意并上传')
  const ready = () => { submit.disabled = !(agree.checked && file.files && file.files.length) }
  agree.addEventListener('change', ready)
  file.addEventListener('change', () => {
    ready()
    const f = file.files && file.files[0]
    if (preview.src) URL.revokeObjectURL(preview.src)
    preview.hidden = !f
    chosen.textContent = f ? '已选择：' + f.name : '请正对镜头、光线充足、不戴帽子和口罩；支持 JPG、PNG'
    if (f) preview.src = URL.createObjectURL(f)
  })
  const form = h('form.card', { novalidate: true, testid: 'h5-face-form' },
    h('h3', '人脸开门授权'),
    h('div.consent-text', { testid: 'h5-face-consent-text', tabindex: '0' }, face.consent_text || ''),
    h('label.check', agree, h('span', '我已阅读并同意以上说明')),
    h('span.label', '人脸照片'),
    h('label.btn.ghost.block.file-pick', file, '拍照或选择照片'),
    chosen,
    preview, h('div.field-gap'), err, submit)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    err.show(null)
    const f = file.files && file.files[0]
    if (!agree.checked) { err.show(new Error('请先阅读并勾选同意')); return }
    if (!f) { err.show(new Error('请选择或拍摄一张人脸照片')); return }
    if (!/^image\/(jpeg|png)$/.test(f.type)) { err.show(new Error('只支持 JPG 或 PNG 格式的照片')); return }
    submit.disabled = true
    submit.textContent = '上传中…'
    try {
      const body = new FormData()
      body.set('photo', await shrink(f), f.type === 'image/png' && f.size < 1500000 ? 'face.png' : 'face.jpg')
      body.set('consent_version', String(face.consent_version))
      await api('PUT', '/face', body, { timeout: 60000 })
      toast('人脸已上传，稍后即可刷脸开门')
      done()
    } catch (e2) {
      err.show(e2)
      submit.disabled = false
      submit.textContent = '同意并上传'
    }
  })
  return form
}

// shrink makes a large photo at most MAX_SIDE pixels on its long side (a
// JPEG), so it uploads quickly on a slow connection; small ones go as they are.
async function shrink(f) {
  if (f.size < 1500000 || typeof createImageBitmap !== 'function') return f
  try {
    const bmp = await createImageBitmap(f)
    const scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height))
    const c = document.createElement('canvas')
    c.width = Math.round(bmp.width * scale)
    c.height = Math.round(bmp.height * scale)
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height)
    const out = await new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', 0.9))
    return out || f
  } catch {
    return f
  }
}

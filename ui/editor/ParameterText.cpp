#include "editor/ParameterText.h"

#include <QLocale>
#include <QObject>

namespace particle::ui {

QString withCommas(int64_t v) {
  return QLocale(QLocale::English).toString(static_cast<qlonglong>(v));
}

QString parameterText(const Validation &v, const std::string &id, bool compact) {
  const NodeInfo *info = v.info(id);
  if (!info || (compact && info->parameters == 0))
    return compact ? QString() : QStringLiteral("-");
  const auto found = v.sharing.nodes.find(id);
  const NodeSharing *share = found == v.sharing.nodes.end() ? nullptr : &found->second;
  const int64_t own = share ? v.sharing.ownParameters(id, info->parameters, info->trunkParameters) : info->parameters;
  const QString all = withCommas(info->parameters);
  if (own == info->parameters) {
    // What trains of it: all, some (an adapter, a TorchScript module kept fixed) or none (frozen).
    if (info->trainableParameters == info->parameters)
      return compact ? QObject::tr("%1 params").arg(all) : all;
    if (info->trainableParameters == 0)
      return compact ? QObject::tr("%1 params (frozen)").arg(all) : QObject::tr("%1 (frozen)").arg(all);
    return QObject::tr("%1 of %2 trained").arg(withCommas(info->trainableParameters), all);
  }
  const QString frozen = info->trainableParameters == 0 ? QObject::tr(" (frozen)") : QString();
  // The Inspector's text in short lines (its column is narrow at 1024 × 700, and its form must not
  // wrap text: see InspectorWidget).
  if (own == 0) // runs another member's module
    return compact ? QObject::tr("%1 params, shared").arg(all) + frozen
                   : QObject::tr("%1%2\nall shared with %3").arg(all, frozen, QString::fromStdString(share->module));
  // Its own last layer over another member's trunk.
  const QString shared = withCommas(info->parameters - own);
  return compact ? QObject::tr("%1 own + %2 shared").arg(withCommas(own), shared) + frozen
                 : QObject::tr("%1%2\n%3 its own\n%4 shared with %5")
                       .arg(all, frozen, withCommas(own), shared, QString::fromStdString(share->trunk));
}

} // namespace particle::ui
